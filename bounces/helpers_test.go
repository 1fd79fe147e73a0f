package bounces

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"herald/internal/clocktest"
	"herald/mailer"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fixture is a migrated database with subscribers, alert rows queued for
// them, and a processor recording through the real subscriber service.
type fixture struct {
	db      *store.DB
	subs    *subscribers.Service
	proc    *Processor
	verp    *mailer.VERP
	reg     *prometheus.Registry
	counted map[string]int // kind/source -> herald_bounces_total increments
}

type countFunc func(kind, source string)

func (f countFunc) CountBounce(kind, source string) { f(kind, source) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	rel := releases.New(db, releases.Options{Now: clock.Now})
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: testSecret, BaseURL: "https://press.example.org", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, subs: subs, verp: mailer.NewVERP("bounces@news.example.org", testSecret),
		reg: prometheus.NewRegistry(), counted: map[string]int{}}
	f.proc = NewProcessor(subs, ProcessorOptions{VERP: f.verp, SoftLimit: 2, Metrics: NewMetrics(f.reg),
		Counter: countFunc(func(k, s string) { f.counted[k+"/"+s]++ })})
	return f
}

// recipient is a subscriber with one alert row queued.
type recipient struct {
	id    int64
	email string
	msg   store.OutboxMessage
}

func (f *fixture) recipient(t *testing.T, email string) recipient {
	t.Helper()
	ctx := context.Background()
	id := storetest.Subscriber(t, f.db, email, "active", "en")
	key := "alert:1:" + strconv.FormatInt(id, 10)
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, time.Now(), []store.OutboxItem{{IdemKey: key, Kind: mailer.KindAlert, SubscriberID: id, AlertID: 1, Payload: "{}"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := f.db.OutboxByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var m store.OutboxMessage
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		m, err = tx.OutboxMessageByID(ctx, row.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return recipient{id: id, email: email, msg: m}
}

// mail is a testdata sample about r's message, returned to its VERP
// address (verp false: to a forged token).
func (f *fixture) mail(t *testing.T, name string, r recipient, verp bool) []byte {
	t.Helper()
	addr := f.verp.Address(r.msg.ID)
	if !verp {
		addr = "bounces+" + strconv.FormatInt(r.msg.ID, 36) + "-0000000000000000@news.example.org"
	}
	return sample(t, name, addr, r.email, mailer.MessageID(r.msg, "news.example.org"))
}

func (f *fixture) status(t *testing.T, id int64) string {
	t.Helper()
	s, err := f.db.SubscriberStatus(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) bounces(t *testing.T) []store.Bounce {
	t.Helper()
	b, err := f.db.ListBounces(context.Background(), store.BounceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) skipped(source string) float64 {
	return testutil.ToFloat64(f.proc.metrics.skipped.WithLabelValues(source))
}

func testutilValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
