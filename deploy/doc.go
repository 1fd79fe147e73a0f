// Package deploy holds the files that run herald in production, not Go
// code: a hardened systemd unit (herald.service, herald.env,
// herald-sysusers.conf), reverse-proxy examples (nginx.conf, Caddyfile),
// Prometheus alert rules with their unit tests (prometheus/) and a Grafana
// dashboard (grafana/). Its tests check those files: promtool, the unit's
// settings, the proxies' limits, and that every metric they name is one
// herald exports. Nothing imports it.
package deploy
