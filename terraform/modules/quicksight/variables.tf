variable "enabled" {
  description = "Create the QuickSight data source and data sets (needs a QuickSight subscription in the account, so off by default)."
  type        = bool
  default     = false
}

variable "name_prefix" {
  description = "Prefix of every resource id and name, e.g. \"ecomm-dev\" (lowercase letters, digits and hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "athena_workgroup" {
  description = "Athena workgroup QuickSight queries through (its enforced settings, encryption and scan cut-off apply)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.athena_workgroup))
    error_message = "athena_workgroup must be 1-128 characters of letters, digits, '.', '_' or '-'."
  }
}

variable "glue_database" {
  description = "Glue database holding the curated `events` table."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database))
    error_message = "glue_database must be 1-255 characters of lowercase letters, digits or '_'."
  }
}

variable "principal_arn" {
  description = "QuickSight user or group ARN granted owner access to the data source and data sets; null grants none (only the account's admins see them)."
  type        = string
  default     = null

  validation {
    condition     = var.principal_arn == null || can(regex("^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:[0-9]{12}:(user|group)/.+$", coalesce(var.principal_arn, "-")))
    error_message = "principal_arn must be null or a QuickSight user or group ARN."
  }
}

variable "datasets" {
  description = "Data sets to create: either `table` (a Glue table of glue_database) or `sql` (Athena SQL), with the columns QuickSight exposes. The default covers the curated events and the daily KPIs."
  type = map(object({
    table = optional(string)
    sql   = optional(string)
    columns = list(object({
      name = string
      type = string
    }))
  }))
  default = {
    events = {
      table = "events"
      columns = [
        { name = "event_time", type = "DATETIME" },
        { name = "event_type", type = "STRING" },
        { name = "product_id", type = "INTEGER" },
        { name = "category_id", type = "INTEGER" },
        { name = "category_code", type = "STRING" },
        { name = "brand", type = "STRING" },
        { name = "price", type = "DECIMAL" },
        { name = "user_id", type = "INTEGER" },
        { name = "user_session", type = "STRING" },
        { name = "event_date", type = "STRING" },
      ]
    }
    daily_kpis = {
      sql = <<-SQL
        SELECT
          event_date,
          count(*) AS events,
          approx_distinct(user_id) AS unique_visitors,
          approx_distinct(user_session) AS sessions,
          count_if(event_type = 'cart') AS cart_adds,
          count_if(event_type = 'purchase') AS purchases,
          sum(IF(event_type = 'purchase', price, 0)) AS revenue
        FROM events
        GROUP BY event_date
      SQL
      columns = [
        { name = "event_date", type = "STRING" },
        { name = "events", type = "INTEGER" },
        { name = "unique_visitors", type = "INTEGER" },
        { name = "sessions", type = "INTEGER" },
        { name = "cart_adds", type = "INTEGER" },
        { name = "purchases", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
      ]
    }
  }
  nullable = false

  validation {
    condition     = alltrue([for k, d in var.datasets : can(regex("^[a-z][a-z0-9_]{0,63}$", k)) && ((d.table == null) != (d.sql == null))])
    error_message = "datasets: keys must be lowercase identifiers and each data set must set exactly one of table or sql."
  }

  validation {
    condition = alltrue(flatten([
      for d in var.datasets : [
        for c in d.columns : contains(["STRING", "INTEGER", "DECIMAL", "DATETIME", "BIT", "BOOLEAN", "JSON"], c.type)
      ]
    ])) && alltrue([for d in var.datasets : length(d.columns) > 0])
    error_message = "datasets: every data set needs columns, each of type STRING, INTEGER, DECIMAL, DATETIME, BIT, BOOLEAN or JSON."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the environments set the common ones through default_tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}
