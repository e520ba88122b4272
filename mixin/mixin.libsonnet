// The robustmq-log-metrics monitoring mixin: prometheusRules, prometheusAlerts,
// grafanaDashboards, configured by _config (config.libsonnet).
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
