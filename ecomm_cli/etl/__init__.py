"""The batch ETL: the Glue job glue/curate_events.py, run on Glue or on a local Spark session."""
