// Small helpers shared by rules, alerts and dashboards.
{
  // `metric{selector, extra}`: the one documented selector plus per-query matchers.
  series(config, metric, extra=''):: '%s{%s%s}' % [metric, config.selector, if extra == '' then '' else ', ' + extra],

  // `a|b|c` as an anchored PromQL regex alternative.
  alternatives(values):: std.join('|', values),

  // Seconds in a Prometheus duration of one unit ('5m', '6h', '3d').
  seconds(d)::
    local units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
    std.parseInt(d[:std.length(d) - 1]) * units[d[std.length(d) - 1]],

  // `a, b` for a `by (...)` or `on (...)` clause.
  labelList(labels):: std.join(', ', labels),

  // The labels of a fleet, the unit that pages: `_config.fleetLabels` and `service`.
  fleet(config):: self.labelList(config.fleetLabels + ['service']),

  // The runbook link of an alert.
  runbookURL(config, alert):: config.runbookURLPattern % std.asciiLower(alert),

  // Percent-encodes a URL component, leaving `${...}` Grafana variables alone so
  // Grafana can interpolate them (each with :percentencode where it sits in a value).
  urlEncode(s)::
    local unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
    local hex = '0123456789ABCDEF';
    // A lookup table. Array elements are evaluated once, object fields on every
    // access (jsonnet 0.18), so the encoding work sits in the array.
    local codes = [
      if std.length(std.findSubstr(std.char(b), unreserved)) > 0 then std.char(b)
      else '%' + hex[std.floor(b / 16)] + hex[b % 16]
      for b in std.range(0, 127)
    ];
    local table = { [std.char(b)]: codes[b] for b in std.range(0, 127) };
    local enc(c) = table[c];
    local encode(text) = std.join('', std.map(enc, std.stringChars(text)));
    // Pieces after a `$` start with `{name}` (the links use no other `$`).
    local pieces = std.split(s, '$');
    encode(pieces[0]) + std.join('', [
      local end = std.findSubstr('}', piece)[0];
      '$' + piece[:end + 1] + encode(piece[end + 1:])
      for piece in pieces[1:]
    ]),
}
