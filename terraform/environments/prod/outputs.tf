# One object with every output of the platform module; the CLI reads it flat
# (ecomm_cli/infra/terraform.outputs), and the local runners take their settings (stream names,
# key layout, thresholds) from it, so local and AWS cannot drift.
output "platform" {
  description = "Every output of the platform module (terraform/modules/platform/outputs.tf)."
  value       = module.platform
}
