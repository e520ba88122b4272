// RobustMQ's own grafana/ folder: the rules and dashboards that render.jsonnet
// renders, under RobustMQ's file names and conventions, for the series in
// integrations/robustmq/ (its grafana patch carries exactly these bytes;
// scripts/robustmq-series-check.sh fails when they differ):
//   jsonnet -J mixin -S -m OUT mixin/robustmq-grafana.jsonnet
// RobustMQ's robustmq-broker.json names its data source variable DS_PROMETHEUS,
// so the dashboards' `datasource` variable is renamed in the rendered text: every
// reference to it is `${datasource}`, `var-datasource=` or the variable's name.
local rendered = import 'render.jsonnet';

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
local source = 'https://github.com/robustmq/robustmq-log-metrics (mixin/)';

local withoutFirstLine(text) = std.join('\n', std.split(text, '\n')[1:]);
local dsPrometheus(text) = std.foldl(
  function(t, r) std.strReplace(t, r[0], r[1]),
  [
    ['${datasource}', '${DS_PROMETHEUS}'],
    ['var-datasource=', 'var-DS_PROMETHEUS='],
    ['"name": "datasource"', '"name": "DS_PROMETHEUS"'],
  ],
  text
);

{
  'grafana/robustmq-log-metrics-rules.yml':
    licence +
    '# Log metrics recording rules and alerts (robustmq_log_events_total and the appender\n' +
    '# counters of the log_metrics appender), rendered from %s; do not edit by hand.\n' % source +
    withoutFirstLine(rendered['alerts/robustmq-logs.rules.yml']),
  'grafana/robustmq-log-overview.json': dsPrometheus(rendered['dashboards/robustmq-log-overview.json']),
  'grafana/robustmq-log-events.json': dsPrometheus(rendered['dashboards/robustmq-log-events.json']),
}
