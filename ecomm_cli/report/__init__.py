"""The KPI report: one self-contained HTML page with a chart and a table per KPI.

`charts` says how each KPI is drawn (pure), `page` renders the HTML (pure), `build` runs the
KPIs and hands their results to `page` (the only part that touches data).
"""
