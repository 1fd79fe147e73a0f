package main

import "github.com/prometheus/client_golang/prometheus"

// newLeaderGauge registers herald_leader (SPEC 6): 1 while this instance
// runs the timed work that must run once per deployment (embargoes going
// live, automatic alerts, digest schedules), else 0. The alert rules in
// deploy/prometheus page when no instance has it. On SQLite there is one
// instance and it always runs that work; with several instances on
// PostgreSQL the leader lease sets it.
func newLeaderGauge(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "herald", Name: "leader",
		Help: "1 while this instance runs the timed work of the deployment (embargoes, automatic alerts, digest schedules), else 0."})
	reg.MustRegister(g)
	return g
}
