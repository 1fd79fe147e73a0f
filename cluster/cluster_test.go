package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/cluster"
	"herald/store/storetest"
)

type member struct {
	node    *cluster.Node
	reg     *prometheus.Registry
	running atomic.Int32 // leader jobs running now
	stop    context.CancelFunc
	done    chan struct{}
	peers   atomic.Int32
}

func join(t *testing.T, n *cluster.Node, m *member) {
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.done = cancel, make(chan struct{})
	n.Lead("job", func(ctx context.Context) {
		m.running.Add(1)
		<-ctx.Done()
		m.running.Add(-1)
	})
	go func() { n.Run(ctx); close(m.done) }()
	t.Cleanup(func() { cancel(); <-m.done })
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// One leader at a time runs the leader's jobs; when it stops, another
// takes over and starts them; the gauge says who leads.
func TestNode_OneLeaderAndTakeover(t *testing.T) {
	db := storetest.New(t)
	opts := func(id string, reg prometheus.Registerer, m *member) cluster.Options {
		return cluster.Options{ID: id, LeaseTTL: 300 * time.Millisecond, Renew: 50 * time.Millisecond, Live: 200 * time.Millisecond,
			Registerer: reg, OnInstances: func(n int) { m.peers.Store(int32(n)) }}
	}
	a, b := &member{reg: prometheus.NewRegistry()}, &member{reg: prometheus.NewRegistry()}
	a.node = cluster.New(db, opts("a", a.reg, a))
	join(t, a.node, a)
	wait(t, "a to lead", func() bool { return a.node.IsLeader() && a.running.Load() == 1 })
	b.node = cluster.New(db, opts("b", b.reg, b))
	join(t, b.node, b)
	wait(t, "both to count two instances", func() bool { return a.peers.Load() == 2 && b.peers.Load() == 2 })
	time.Sleep(400 * time.Millisecond) // longer than the lease: a renews, b never leads
	if b.node.IsLeader() || b.running.Load() != 0 || a.running.Load() != 1 {
		t.Fatalf("leaders: a=%v b=%v, jobs a=%d b=%d", a.node.IsLeader(), b.node.IsLeader(), a.running.Load(), b.running.Load())
	}
	if g := gauge(t, a.reg, "herald_leader"); g != 1 {
		t.Fatalf("a's herald_leader = %v", g)
	}
	a.stop()
	<-a.done
	if a.running.Load() != 0 {
		t.Fatal("a's job still runs after a stopped")
	}
	wait(t, "b to take over", func() bool { return b.node.IsLeader() && b.running.Load() == 1 })
	wait(t, "b to count one instance", func() bool { return b.peers.Load() == 1 })
	if g := gauge(t, b.reg, "herald_leader"); g != 1 {
		t.Fatalf("b's herald_leader = %v", g)
	}
}

// gauge reads an unlabelled gauge from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
