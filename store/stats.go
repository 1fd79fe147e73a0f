package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Queries of the admin console's dashboard and alert progress page.

// SubscriberBreakdown counts the active subscribers (those who receive mail)
// by what they chose. A subscriber with no topics follows every topic and is
// counted in AllTopics, not under each topic; likewise for regions.
type SubscriberBreakdown struct {
	Active     int
	ByTopic    map[string]int
	AllTopics  int
	ByRegion   map[string]int
	AllRegions int
	ByLanguage map[string]int
	ByCadence  map[string]int
}

// breakdown reads what the counts need of each active subscriber; the
// lists are split in Go, in one pass over the table (splitting them in SQL
// with json_each took three passes and three times as long, and grouping
// by the lists in SQL first is slower still: it sorts the table).
const breakdown = `SELECT language, cadence, topics, regions FROM subscribers WHERE status = 'active'`

// SubscriberBreakdown counts active subscribers by language, cadence, topic
// and region, streaming the rows once (nothing is kept but the counts).
func (db *DB) SubscriberBreakdown(ctx context.Context) (SubscriberBreakdown, error) {
	b := SubscriberBreakdown{ByTopic: map[string]int{}, ByRegion: map[string]int{},
		ByLanguage: map[string]int{}, ByCadence: map[string]int{}}
	rows, err := db.read.QueryContext(ctx, breakdown)
	if err != nil {
		return b, fmt.Errorf("store: subscriber breakdown: %w", err)
	}
	defer rows.Close()
	// RawBytes spares a string per column, and map updates keyed by
	// string(bytes) do not allocate once the key exists.
	var lang, cadence, topics, regions sql.RawBytes
	const n = 1
	for rows.Next() {
		if err := rows.Scan(&lang, &cadence, &topics, &regions); err != nil {
			return b, fmt.Errorf("store: subscriber breakdown: %w", err)
		}
		b.Active += n
		countList(lang, b.ByLanguage, n)
		countList(cadence, b.ByCadence, n)
		if len(topics) == 0 {
			b.AllTopics += n
		} else {
			countList(topics, b.ByTopic, n)
		}
		if len(regions) == 0 {
			b.AllRegions += n
		} else {
			countList(regions, b.ByRegion, n)
		}
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("store: subscriber breakdown: %w", err)
	}
	return b, nil
}

// countList adds n to each value of a stored comma-separated list.
func countList(list []byte, into map[string]int, n int) {
	for len(list) > 0 {
		i := bytes.IndexByte(list, ',')
		if i < 0 {
			i = len(list)
		}
		into[string(list[:i])] += n
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
}

// GrowthDay is one UTC day of the subscriber growth chart.
type GrowthDay struct {
	Day    time.Time // midnight UTC
	SignUp int       // subscribers created that day (any status now)
	Active int       // confirmed and not (yet) unsubscribed or bounced at the end of the day
}

// dayBucket is the day index of a millisecond column from ?1 (the first
// day's midnight): -1 for anything before it.
const dayBucket = `CASE WHEN %[1]s < ?1 THEN -1 ELSE (%[1]s - ?1) / 86400000 END`

var (
	growthSignUps = `SELECT ` + fmt.Sprintf(dayBucket, "created_at") + ` AS d, COUNT(*) FROM subscribers GROUP BY d`
	growthJoined  = `SELECT ` + fmt.Sprintf(dayBucket, "confirmed_at") + ` AS d, COUNT(*) FROM subscribers
	WHERE confirmed_at IS NOT NULL AND status <> 'pending' GROUP BY d`
	// Those who left are counted by their current status: a subscriber
	// who left and came back is active again and counts as such. So the
	// last day always equals the current number of active subscribers.
	growthLeft = `SELECT ` + fmt.Sprintf(dayBucket, "CASE WHEN confirmed_at > COALESCE(unsubscribed_at, bounced_at, updated_at) THEN confirmed_at ELSE COALESCE(unsubscribed_at, bounced_at, updated_at) END") + ` AS d,
	COUNT(*) FROM subscribers
	WHERE status IN ('unsubscribed', 'bounced') AND confirmed_at IS NOT NULL GROUP BY d`
)

// SubscriberGrowth returns days UTC days ending with the day of now: the
// sign-ups of each day and the active subscribers at its end, estimated from
// the recorded confirmation, unsubscribe and bounce times (erased
// subscribers are gone from the history).
func (db *DB) SubscriberGrowth(ctx context.Context, now time.Time, days int) ([]GrowthDay, error) {
	if days < 1 {
		days = 1
	}
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	signUps, joined, left := map[int]int{}, map[int]int{}, map[int]int{}
	for _, q := range []struct {
		sql  string
		into map[int]int
	}{{growthSignUps, signUps}, {growthJoined, joined}, {growthLeft, left}} {
		if err := db.countDays(ctx, q.sql, q.into, ms(first)); err != nil {
			return nil, fmt.Errorf("store: subscriber growth: %w", err)
		}
	}
	out := make([]GrowthDay, days)
	active := joined[-1] - left[-1]
	for i := range out {
		active += joined[i] - left[i]
		out[i] = GrowthDay{Day: first.AddDate(0, 0, i), SignUp: signUps[i], Active: max(active, 0)}
	}
	return out, nil
}

func (db *DB) countDays(ctx context.Context, q string, into map[int]int, args ...any) error {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d, n int
		if err := rows.Scan(&d, &n); err != nil {
			return err
		}
		into[d] += n
	}
	return rows.Err()
}

// DeliveryDay is one UTC day of the delivery health chart.
type DeliveryDay struct {
	Day      time.Time
	Sent     int // messages sent that day
	Failed   int // messages failed permanently that day
	Deferred int // messages waiting for a retry whose last attempt was that day
}

// deliveryDaysTemplate counts by day; on SQLite, %[1]s is "+state", which
// keeps it from reading the sent rows through the state index (all of them,
// ever) instead of the id range.
var deliveryDaysTemplate = `SELECT d, COUNT(*) FILTER (WHERE k = 's'), COUNT(*) FILTER (WHERE k = 'f'), COUNT(*) FILTER (WHERE k = 'd') FROM (
	SELECT CASE WHEN state = 'sent' THEN ` + fmt.Sprintf(dayBucket, "sent_at") + ` ELSE ` + fmt.Sprintf(dayBucket, "updated_at") + ` END AS d,
		CASE WHEN state = 'sent' THEN 's' ELSE 'f' END AS k FROM outbox
		WHERE id >= ?2 AND %[1]s IN ('sent', 'failed') AND COALESCE(sent_at, updated_at) >= ?1
	UNION ALL
	SELECT ` + fmt.Sprintf(dayBucket, "updated_at") + `, 'd' FROM outbox
		WHERE state = 'queued' AND attempts > 0 AND last_error <> '' AND updated_at >= ?1
) AS days GROUP BY d`

// deliveryLookBack is how long before the first day of the chart a message
// can have been queued and still be sent or failed within the chart: the
// retry period (48 h, SPEC 5.4) with a margin. It bounds the scan by id.
const deliveryLookBack = 3 * 24 * time.Hour

// DeliveryHealth returns days UTC days ending with the day of now: how many
// messages were sent, failed, or are deferred (by their last attempt).
func (db *DB) DeliveryHealth(ctx context.Context, now time.Time, days int) ([]DeliveryDay, error) {
	if days < 1 {
		days = 1
	}
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	from, err := db.firstOutboxSince(ctx, first.Add(-deliveryLookBack))
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, db.e.q.deliveryDays, ms(first), from)
	if err != nil {
		return nil, fmt.Errorf("store: delivery health: %w", err)
	}
	defer rows.Close()
	out := make([]DeliveryDay, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i)
	}
	for rows.Next() {
		var d, sent, failed, deferred int
		if err := rows.Scan(&d, &sent, &failed, &deferred); err != nil {
			return nil, fmt.Errorf("store: delivery health: %w", err)
		}
		if d >= 0 && d < days {
			out[d] = DeliveryDay{Day: out[d].Day, Sent: sent, Failed: failed, Deferred: deferred}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delivery health: %w", err)
	}
	return out, nil
}

// firstOutboxSince finds, by binary search on the primary key, the first
// outbox id created at or after t. Ids grow with created_at, so the
// delivery scan can skip the old part of a large outbox; each probe is one
// primary-key lookup.
func (db *DB) firstOutboxSince(ctx context.Context, t time.Time) (int64, error) {
	var lo, hi sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM outbox`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("store: outbox bounds: %w", err)
	}
	if !lo.Valid {
		return 0, nil
	}
	a, b, target := lo.Int64, hi.Int64+1, ms(t)
	for a < b {
		mid := a + (b-a)/2
		var id, created int64
		err := db.read.QueryRowContext(ctx, `SELECT id, created_at FROM outbox WHERE id >= ? ORDER BY id LIMIT 1`, mid).
			Scan(&id, &created)
		if err != nil {
			return 0, fmt.Errorf("store: outbox bounds: %w", err)
		}
		if created >= target {
			b = mid
		} else {
			a = id + 1
		}
	}
	return a, nil
}

// LastSendError is the most recent error of a delivery attempt (an SMTP
// reply or a connection error) of a message that is deferred or failed; the
// zero value when there is none.
type LastSendError struct {
	At    time.Time
	Error string
}

const lastSendError = `SELECT last_error, updated_at FROM outbox
WHERE state IN ('queued', 'failed') AND attempts > 0 AND last_error <> ''
ORDER BY updated_at DESC LIMIT 1`

// LastSendError returns the latest delivery error.
func (db *DB) LastSendError(ctx context.Context) (LastSendError, error) {
	var e LastSendError
	var at int64
	err := db.read.QueryRowContext(ctx, lastSendError).Scan(&e.Error, &at)
	if err == sql.ErrNoRows {
		return LastSendError{}, nil
	}
	if err != nil {
		return e, fmt.Errorf("store: last send error: %w", err)
	}
	e.At = fromMS(at)
	return e, nil
}

// AlertProblem is a message of an alert that failed, was dropped as stale,
// or waits for a retry.
type AlertProblem struct {
	OutboxID int64
	To       string // the subscriber's current address, the test address, or "" when erased
	State    string // failed | expired | queued (deferred)
	Attempts int
	Error    string
}

const alertProblems = `SELECT o.id, COALESCE(s.email, o.to_addr), o.state, o.attempts, o.last_error
FROM outbox o LEFT JOIN subscribers s ON s.id = o.subscriber_id
WHERE o.alert_id = ? AND (o.state IN ('failed', 'expired') OR (o.state = 'queued' AND o.last_error <> ''))
ORDER BY o.id LIMIT ?`

// AlertProblems lists up to limit problem messages of an alert, oldest first.
func (db *DB) AlertProblems(ctx context.Context, alertID int64, limit int) ([]AlertProblem, error) {
	rows, err := db.read.QueryContext(ctx, alertProblems, alertID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: alert %d problems: %w", alertID, err)
	}
	defer rows.Close()
	var out []AlertProblem
	for rows.Next() {
		var p AlertProblem
		if err := rows.Scan(&p.OutboxID, &p.To, &p.State, &p.Attempts, &p.Error); err != nil {
			return nil, fmt.Errorf("store: alert %d problems: %w", alertID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TranslationGroup is an existing translation_key with the languages and
// a title of its releases, for the editor's picker.
type TranslationGroup struct {
	Key       string
	Languages []string
	Title     string
}

// translationGroupsTemplate's %s aggregates the distinct languages into one
// comma-separated string, in the engine's words.
const translationGroupsTemplate = `SELECT translation_key, %s, MIN(title)
FROM releases WHERE translation_key <> ''
GROUP BY translation_key ORDER BY MAX(published_at) DESC LIMIT ?`

// TranslationGroups lists the most recent translation groups.
func (db *DB) TranslationGroups(ctx context.Context, limit int) ([]TranslationGroup, error) {
	rows, err := db.read.QueryContext(ctx, db.e.q.translationGroups, limit)
	if err != nil {
		return nil, fmt.Errorf("store: translation groups: %w", err)
	}
	defer rows.Close()
	var out []TranslationGroup
	for rows.Next() {
		var g TranslationGroup
		var langs string
		if err := rows.Scan(&g.Key, &langs, &g.Title); err != nil {
			return nil, fmt.Errorf("store: translation groups: %w", err)
		}
		g.Languages = strings.Split(langs, ",")
		out = append(out, g)
	}
	return out, rows.Err()
}
