// The mixin rendered for RobustMQ's own tree: the rules and dashboards its
// grafana/ folder takes in the grafana pull request of integrations/robustmq/
// (scripts/robustmq-series-check.sh fails when that PR's files differ):
//   jsonnet -J mixin -S -m OUT mixin/robustmq-grafana.jsonnet
// RobustMQ owns its copy, so the files carry RobustMQ's licence header and no
// pointer back here. What differs from render.jsonnet's rendering:
// - the selector names RobustMQ's own Prometheus jobs, the ones that exist both
//   in grafana/prometheus-config-example.yml and in
//   docker/robustmq/monitoring/prometheus.yml (the series check verifies it);
// - runbook links go to the runbook page the docs PR adds to RobustMQ's tree;
// - the data source variable is robustmq-broker.json's DS_PROMETHEUS.
local robustmqJobs = ['robustmq-mqtt-broker', 'robustmq-mqtt-broker-cluster'];
local jobSelector = 'job=~"%s"' % std.join('|', robustmqJobs);

local mixin = (import 'mixin.libsonnet') + {
  _config+:: {
    selector: jobSelector,
    // A log shipper for RobustMQ sets the stream's job to the scrape job's name.
    lokiSelector: jobSelector,
    runbookURLPattern: 'https://github.com/robustmq/robustmq/blob/main/docs/en/Observability/Log-Metrics-Runbooks.md#%s',
  },
};

local licence = |||
  # Copyright 2023 RobustMQ Team
  #
  # Licensed under the Apache License, Version 2.0 (the "License");
  # you may not use this file except in compliance with the License.
  # You may obtain a copy of the License at
  #
  #     http://www.apache.org/licenses/LICENSE-2.0
  #
  # Unless required by applicable law or agreed to in writing, software
  # distributed under the License is distributed on an "AS IS" BASIS,
  # WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
  # See the License for the specific language governing permissions and
  # limitations under the License.

|||;

// jsonnet 0.18 prints an empty array as "[", a blank line, "]": make it "[]"
// (as render.jsonnet does).
local json(v) = std.foldl(
  function(text, n) std.strReplace(text, '[\n\n' + std.repeat(' ', n) + ']', '[]'),
  std.range(0, 12),
  std.manifestJsonEx(v, '  ')
) + '\n';
local dsPrometheus(text) = std.foldl(
  function(t, r) std.strReplace(t, r[0], r[1]),
  [
    ['${datasource}', '${DS_PROMETHEUS}'],
    ['var-datasource=', 'var-DS_PROMETHEUS='],
    ['"name": "datasource"', '"name": "DS_PROMETHEUS"'],
  ],
  text
);
local dashboards = mixin.grafanaDashboards;

local files = {
  'grafana/robustmq-log-metrics-rules.yml':
    licence +
    '# Recording rules and alerts on the families of the log_metrics appender\n' +
    '# (docs/en/Observability/Log-Metrics.md); one runbook per alert in\n' +
    '# docs/en/Observability/Log-Metrics-Runbooks.md.\n' +
    (import 'yaml.libsonnet').groups(mixin.prometheusRules.groups + mixin.prometheusAlerts.groups),
} + {
  ['grafana/' + name]: dsPrometheus(json(dashboards[name]))
  for name in std.objectFields(dashboards)
};

// `jsonnet -S -m` ends every file with a newline of its own.
// Each file ends in one newline (go-jsonnet's -m writes a string as it is).
{ [path]: std.rstripChars(files[path], '\n') + '\n' for path in std.objectFields(files) }
