// The extra ECharts pieces only the Improve page draws with (dot-and-whisker: scatter + custom
// series + a mark line at zero). Imported by that page alone, so they load with it.
import * as echarts from 'echarts/core';
import { CustomChart, ScatterChart } from 'echarts/charts';
import { MarkLineComponent } from 'echarts/components';

echarts.use([ScatterChart, CustomChart, MarkLineComponent]);
