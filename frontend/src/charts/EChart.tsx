// A thin React shell around ECharts, imported piece by piece from `echarts/core` so only the
// bar/line charts, the components and the canvas renderer we use end up in the bundle.
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, DataZoomComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { prefersReducedMotion } from '../app/theme';
import { withoutAnimation, type ChartOption } from './options';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

export function EChart({ option, label, testId }: { option: ChartOption; label: string; testId?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, null, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(prefersReducedMotion() ? withoutAnimation(option) : option, { notMerge: true });
  }, [option]);

  return <div ref={el} className="chart-canvas" role="img" aria-label={label} data-testid={testId} />;
}
