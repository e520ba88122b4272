// Small helpers shared by rules, alerts and dashboards.
{
  // `metric{selector, extra}`: the one documented selector plus per-query matchers.
  series(config, metric, extra=''):: '%s{%s%s}' % [metric, config.selector, if extra == '' then '' else ', ' + extra],

  // `a|b|c` as an anchored PromQL regex alternative.
  alternatives(values):: std.join('|', values),

  // The runbook link of an alert.
  runbookURL(config, alert):: config.runbookURLPattern % std.asciiLower(alert),

  // Percent-encodes a URL component, leaving `${...}` Grafana variables alone so
  // Grafana can interpolate them (each with :percentencode where it sits in a value).
  urlEncode(s)::
    local unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
    local hex = '0123456789ABCDEF';
    local enc(c) =
      if std.member(unreserved, c) then c
      else std.join('', ['%' + hex[std.floor(b / 16)] + hex[b % 16] for b in std.encodeUTF8(c)]);
    local step(acc, c) =
      if acc.inVar then { out: acc.out + c, inVar: c != '}' }
      else if c == '$' then { out: acc.out + c, inVar: true }
      else { out: acc.out + enc(c), inVar: false };
    std.foldl(step, std.stringChars(s), { out: '', inVar: false }).out,
}
