"""Getting data out: streaming exports (CLI) in JSON Lines, CSV or Parquet."""
