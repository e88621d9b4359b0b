"""Business KPIs: SQL files in sql/kpi/, run on Athena (AWS) or DuckDB (local) by name."""
