package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Subscriber statuses (SPEC 2, Subscriber).
const (
	SubscriberPending      = "pending"
	SubscriberActive       = "active"
	SubscriberUnsubscribed = "unsubscribed"
	SubscriberBounced      = "bounced"
)

// Subscriber is a stored subscriber. Topics and Regions are sorted; empty
// means every topic or region.
type Subscriber struct {
	ID             int64
	Email          string // normalized
	Status         string
	Topics         []string
	Regions        []string
	Language       string
	Cadence        string
	Timezone       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ConfirmedAt    time.Time
	UnsubscribedAt time.Time
	BouncedAt      time.Time
	// The consent record, kept for audit: when, from which IP and page, and
	// the preferences (JSON) consented to.
	ConsentAt    time.Time
	ConsentIP    string
	ConsentPage  string
	ConsentPrefs string
	// NoticeAt is when the last confirm or manage mail was queued; NoticeSeq
	// counts them and names their idempotency keys.
	NoticeAt  time.Time
	NoticeSeq int64
	// DigestSince is the digest watermark: releases published after it are due.
	DigestSince time.Time
}

const subscriberColumns = `id, email, status, topics, regions, language, cadence, timezone,
	created_at, updated_at, confirmed_at, unsubscribed_at, bounced_at,
	consent_at, consent_ip, consent_page, consent_prefs, notice_at, notice_seq, digest_since`

func scanSubscriber(sc interface{ Scan(...any) error }) (Subscriber, error) {
	var s Subscriber
	var topics, regions string
	var created, updated int64
	var confirmed, unsub, bounced, consent, notice, digest sql.NullInt64
	err := sc.Scan(&s.ID, &s.Email, &s.Status, &topics, &regions, &s.Language, &s.Cadence, &s.Timezone,
		&created, &updated, &confirmed, &unsub, &bounced,
		&consent, &s.ConsentIP, &s.ConsentPage, &s.ConsentPrefs, &notice, &s.NoticeSeq, &digest)
	if err != nil {
		return s, err
	}
	s.Topics, s.Regions = splitSlugs(topics), splitSlugs(regions)
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	s.ConfirmedAt, s.UnsubscribedAt, s.BouncedAt = fromNullMS(confirmed), fromNullMS(unsub), fromNullMS(bounced)
	s.ConsentAt, s.NoticeAt, s.DigestSince = fromNullMS(consent), fromNullMS(notice), fromNullMS(digest)
	return s, nil
}

// JoinSlugs is the stored form of a slug list: sorted, comma-separated.
func JoinSlugs(slugs []string) string {
	c := append([]string(nil), slugs...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

func splitSlugs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func subscriberArgs(s *Subscriber) []any {
	return []any{s.Email, AddressKey(s.Email), s.Status, JoinSlugs(s.Topics), JoinSlugs(s.Regions), s.Language, s.Cadence,
		s.Timezone, ms(s.UpdatedAt), nullMS(s.ConfirmedAt), nullMS(s.UnsubscribedAt), nullMS(s.BouncedAt),
		nullMS(s.ConsentAt), s.ConsentIP, s.ConsentPage, s.ConsentPrefs, nullMS(s.NoticeAt), s.NoticeSeq,
		nullMS(s.DigestSince)}
}

const insertSubscriber = `INSERT INTO subscribers (email, email_key, status, topics, regions, language, cadence,
	timezone, updated_at, confirmed_at, unsubscribed_at, bounced_at, consent_at, consent_ip,
	consent_page, consent_prefs, notice_at, notice_seq, digest_since, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// updateSubscriber writes every column a subscriber flow owns; digest_period
// belongs to the digest scheduler and is left alone.
const updateSubscriber = `UPDATE subscribers SET email = ?, email_key = ?, status = ?, topics = ?, regions = ?,
	language = ?, cadence = ?, timezone = ?, updated_at = ?, confirmed_at = ?, unsubscribed_at = ?,
	bounced_at = ?, consent_at = ?, consent_ip = ?, consent_page = ?, consent_prefs = ?, notice_at = ?,
	notice_seq = ?, digest_since = ?
WHERE id = ?`

// InsertSubscriber stores a new subscriber and sets its ID; ErrConflict when
// the address exists.
func (tx *Tx) InsertSubscriber(ctx context.Context, s *Subscriber) error {
	var id int64
	err := tx.tx.QueryRowContext(ctx, insertSubscriber, append(subscriberArgs(s), ms(s.CreatedAt))...).Scan(&id)
	return insertedSubscriber(s, id, err)
}

func insertedSubscriber(s *Subscriber, id int64, err error) error {
	if isUnique(err) {
		return fmt.Errorf("store: insert subscriber: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: insert subscriber: %w", err)
	}
	s.ID = id
	return nil
}

// UpdateSubscriber writes s back; ErrNotFound when it is gone.
func (tx *Tx) UpdateSubscriber(ctx context.Context, s *Subscriber) error {
	res, err := tx.tx.ExecContext(ctx, updateSubscriber, append(subscriberArgs(s), s.ID)...)
	return updatedSubscriber(s, res, err)
}

func updatedSubscriber(s *Subscriber, res sql.Result, err error) error {
	if isUnique(err) {
		return fmt.Errorf("store: update subscriber %d: %w", s.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: update subscriber %d: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update subscriber %d: %w", s.ID, ErrNotFound)
	}
	return nil
}

// SubscriberWriter inserts and updates many subscribers in one transaction
// (imports). Inserts are gathered and written as multi-row INSERTs, one
// round trip for many rows (on PostgreSQL a statement per row costs a
// network round trip each); Flush writes what is gathered and sets the
// IDs. Call Flush before the transaction ends: rows still gathered then are
// not written.
type SubscriberWriter struct {
	tx      *Tx
	upd     *sql.Stmt
	pending []*Subscriber
	ids     map[string]int64 // address -> id of rows flushed by this writer
}

// subscriberInsertChunk is how many rows one INSERT carries (19 values a
// row, well under either engine's limit of parameters).
const subscriberInsertChunk = 500

// SubscriberWriter prepares the statements of a batch of writes.
func (tx *Tx) SubscriberWriter(ctx context.Context) (*SubscriberWriter, error) {
	upd, err := tx.tx.PrepareContext(ctx, updateSubscriber)
	if err != nil {
		return nil, fmt.Errorf("store: prepare subscriber update: %w", err)
	}
	return &SubscriberWriter{tx: tx, upd: upd, ids: map[string]int64{}}, nil
}

// Insert gathers s for the next Flush, which sets s.ID (s must stay valid
// until then).
func (w *SubscriberWriter) Insert(ctx context.Context, s *Subscriber) error {
	w.pending = append(w.pending, s)
	if len(w.pending) >= subscriberInsertChunk {
		return w.Flush(ctx)
	}
	return nil
}

// Update writes s back. A subscriber inserted by this writer and not yet
// flushed (s.ID still 0) is flushed first and updated by its new id.
func (w *SubscriberWriter) Update(ctx context.Context, s *Subscriber) error {
	if s.ID == 0 {
		if err := w.Flush(ctx); err != nil {
			return err
		}
		s.ID = w.ids[s.Email]
	}
	res, err := w.upd.ExecContext(ctx, fixArgs(append(subscriberArgs(s), s.ID))...)
	return updatedSubscriber(s, res, err)
}

// Flush inserts the gathered subscribers and sets their IDs; ErrConflict
// when an address exists already.
func (w *SubscriberWriter) Flush(ctx context.Context) error {
	if w.tx.e.q.insertSubscribersArrays != "" && len(w.pending) > 0 {
		return w.flushArrays(ctx)
	}
	for len(w.pending) > 0 {
		chunk := w.pending[:min(len(w.pending), subscriberInsertChunk)]
		args := make([]any, 0, 20*len(chunk))
		for _, s := range chunk {
			args = append(args, subscriberArgs(s)...)
			args = append(args, ms(s.CreatedAt))
		}
		var rows *sql.Rows
		var err error
		if st := w.tx.preparedStmt(insertSubscribersChunk); st != nil && len(chunk) == subscriberInsertChunk {
			rows, err = w.tx.tx.StmtContext(ctx, st).QueryContext(ctx, fixArgs(args)...)
		} else {
			rows, err = w.tx.tx.QueryContext(ctx, insertSubscribers(len(chunk)), args...)
		}
		if err := w.inserted(chunk, rows, err); err != nil {
			return err
		}
		w.pending = w.pending[len(chunk):]
	}
	return nil
}

// insertSubscribers is the INSERT of n subscribers in one statement.
func insertSubscribers(n int) string {
	head, row, _ := strings.Cut(insertSubscriber, "VALUES ")
	row = strings.TrimSuffix(row, " RETURNING id")
	return head + "VALUES " + strings.Repeat(row+", ", n-1) + row + " RETURNING id, email"
}

// insertSubscribersChunk is the INSERT of a whole chunk: 10,000 parameters
// whose parsing cost SQLite more than a tenth of an import's time when it
// was parsed for every chunk, so PrepareSubscriberWrites prepares it once.
var insertSubscribersChunk = insertSubscribers(subscriberInsertChunk)

// PrepareSubscriberWrites prepares, outside any transaction, the statements
// that SubscriberWriter then reuses in every batch of an import (engines
// that insert from arrays need none).
func (db *DB) PrepareSubscriberWrites(ctx context.Context) error {
	if db.e.q.insertSubscribersArrays != "" {
		return nil
	}
	if _, err := db.writeStmt(ctx, insertSubscribersChunk); err != nil {
		return fmt.Errorf("store: prepare subscriber insert: %w", err)
	}
	return nil
}

// flushArrays inserts the gathered subscribers with one short statement
// whose values are arrays, one per column (PostgreSQL's unnest): planning a
// long VALUES list costs more than inserting the rows.
func (w *SubscriberWriter) flushArrays(ctx context.Context) error {
	n := len(w.pending)
	var text [11][]string // email email_key status topics regions language cadence timezone consent_ip consent_page consent_prefs
	var opt [6][]*int64   // confirmed unsubscribed bounced consent notice digest_since
	updated, seq, created := make([]int64, n), make([]int64, n), make([]int64, n)
	for i := range text {
		text[i] = make([]string, n)
	}
	for i := range opt {
		opt[i] = make([]*int64, n)
	}
	for i, s := range w.pending {
		for j, v := range []string{s.Email, AddressKey(s.Email), s.Status, JoinSlugs(s.Topics), JoinSlugs(s.Regions), s.Language, s.Cadence,
			s.Timezone, s.ConsentIP, s.ConsentPage, s.ConsentPrefs} {
			text[j][i] = v
		}
		for j, t := range []time.Time{s.ConfirmedAt, s.UnsubscribedAt, s.BouncedAt, s.ConsentAt, s.NoticeAt, s.DigestSince} {
			if !t.IsZero() {
				v := ms(t)
				opt[j][i] = &v
			}
		}
		updated[i], seq[i], created[i] = ms(s.UpdatedAt), s.NoticeSeq, ms(s.CreatedAt)
	}
	rows, err := w.tx.tx.QueryContext(ctx, w.tx.e.q.insertSubscribersArrays,
		text[0], text[1], text[2], text[3], text[4], text[5], text[6], text[7], updated,
		opt[0], opt[1], opt[2], opt[3], text[8], text[9], text[10], opt[4], seq, opt[5], created)
	if err := w.inserted(w.pending, rows, err); err != nil {
		return err
	}
	w.pending = w.pending[:0]
	return nil
}

// inserted reads the (id, email) rows an insert of subs returned and sets
// their IDs.
func (w *SubscriberWriter) inserted(subs []*Subscriber, rows *sql.Rows, err error) error {
	if err != nil {
		return insertedSubscriber(&Subscriber{}, 0, err)
	}
	got := make(map[string]int64, len(subs))
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return fmt.Errorf("store: insert subscribers: %w", err)
		}
		got[email] = id
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return insertedSubscriber(&Subscriber{}, 0, err)
	}
	for _, s := range subs {
		s.ID = got[s.Email]
		w.ids[s.Email] = s.ID
	}
	return nil
}

// Close releases the prepared statement.
func (w *SubscriberWriter) Close() error {
	return w.upd.Close()
}

const selectSubscriber = "SELECT " + subscriberColumns + " FROM subscribers WHERE "

// Subscriber returns the subscriber with that id; ErrNotFound if none.
func (db *DB) Subscriber(ctx context.Context, id int64) (Subscriber, error) {
	return oneSubscriber(db.read.QueryRowContext(ctx, selectSubscriber+"id = ?", id), fmt.Sprint(id))
}

// Subscriber reads a subscriber inside the transaction.
func (tx *Tx) Subscriber(ctx context.Context, id int64) (Subscriber, error) {
	return oneSubscriber(tx.tx.QueryRowContext(ctx, selectSubscriber+"id = ?"+tx.e.forUpdate, id), fmt.Sprint(id))
}

// byKey selects by AddressKey; a row that collided when keys were
// introduced (email_dup_of set, see AddressCollision) is not found by it.
const byKey = "email_key = ? AND email_dup_of IS NULL"

// SubscriberByEmail reads the subscriber with that normalized address, in
// any capitals (AddressKey).
func (tx *Tx) SubscriberByEmail(ctx context.Context, email string) (Subscriber, error) {
	return oneSubscriber(tx.tx.QueryRowContext(ctx, selectSubscriber+byKey+tx.e.forUpdate, AddressKey(email)), "by address")
}

func oneSubscriber(row *sql.Row, what string) (Subscriber, error) {
	s, err := scanSubscriber(row)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("store: subscriber %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("store: subscriber %s: %w", what, err)
	}
	return s, nil
}

// SubscribersByEmail returns the subscribers among emails (normalized
// addresses), by AddressKey.
func (tx *Tx) SubscribersByEmail(ctx context.Context, emails []string) (map[string]Subscriber, error) {
	out := make(map[string]Subscriber, len(emails))
	for start := 0; start < len(emails); start += 500 {
		chunk := emails[start:min(start+500, len(emails))]
		args := make([]any, len(chunk))
		for i, e := range chunk {
			args[i] = AddressKey(e)
		}
		rows, err := tx.tx.QueryContext(ctx, selectSubscriber+"email_key IN ("+placeholders(len(chunk))+") AND email_dup_of IS NULL ORDER BY id"+tx.e.forUpdate, args...)
		if err != nil {
			return nil, fmt.Errorf("store: subscribers by address: %w", err)
		}
		for rows.Next() {
			s, err := scanSubscriber(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: scan subscriber: %w", err)
			}
			out[AddressKey(s.Email)] = s
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: subscribers by address: %w", err)
		}
	}
	return out, nil
}

// SubscriberFilter selects subscribers for SubscriberList. Topics and
// Regions follow the matching rule: a subscriber is listed when they would
// receive a release with one of Topics (their topics are empty or include
// it), and likewise for Regions, which the caller expands to the regions
// and their ancestors.
type SubscriberFilter struct {
	Status  string
	Topics  []string
	Regions []string
	Before  int64 // keyset pagination: ids below this; 0 for the first page
	Limit   int
}

// SubscriberList lists subscribers newest first (by id).
func (db *DB) SubscriberList(ctx context.Context, f SubscriberFilter) ([]Subscriber, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	for _, c := range []struct {
		col   string
		slugs []string
	}{{"topics", f.Topics}, {"regions", f.Regions}} {
		if len(c.slugs) == 0 {
			continue
		}
		col := c.col
		conds := []string{col + " = ''"}
		for _, s := range c.slugs {
			conds = append(conds, "(',' || "+col+" || ',') LIKE ?")
			args = append(args, "%,"+s+",%")
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	}
	q := "SELECT " + subscriberColumns + " FROM subscribers"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list subscribers: %w", err)
	}
	defer rows.Close()
	out := []Subscriber{}
	for rows.Next() {
		s, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan subscriber: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list subscribers: %w", err)
	}
	return out, nil
}

// EachSubscriber calls fn for every subscriber in id order, streaming rows
// from one read snapshot (exports); fn's error stops the walk.
func (db *DB) EachSubscriber(ctx context.Context, fn func(*Subscriber) error) error {
	rows, err := db.read.QueryContext(ctx, "SELECT "+subscriberColumns+" FROM subscribers ORDER BY id")
	if err != nil {
		return fmt.Errorf("store: walk subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSubscriber(rows)
		if err != nil {
			return fmt.Errorf("store: scan subscriber: %w", err)
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: walk subscribers: %w", err)
	}
	return nil
}

// CountSubscribers returns how many subscribers have each status.
func (db *DB) CountSubscribers(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT status, COUNT(*) FROM subscribers GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count subscribers: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// cancelSubscriberOutbox stops the mail still queued for a subscriber.
// DeleteSubscriber removes the subscriber row (erasure); the outbox keeps
// its history with subscriber_id set to NULL. ErrNotFound if there is none.
func (tx *Tx) DeleteSubscriber(ctx context.Context, id int64) error {
	// Their bounces stay, counted, without the address (ON DELETE SET
	// NULL drops the id).
	if _, err := tx.tx.ExecContext(ctx, "UPDATE bounces SET email = '' WHERE subscriber_id = ?", id); err != nil {
		return fmt.Errorf("store: delete subscriber %d: %w", id, err)
	}
	// The outbox keeps its rows without the id (PostgreSQL has no foreign
	// key there: migration 0018).
	if _, err := tx.tx.ExecContext(ctx, "UPDATE outbox SET subscriber_id = NULL WHERE subscriber_id = ?", id); err != nil {
		return fmt.Errorf("store: delete subscriber %d: %w", id, err)
	}
	res, err := tx.tx.ExecContext(ctx, "DELETE FROM subscribers WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("store: delete subscriber %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

// AddSuppression puts an address hash on the suppression list; a hash that
// is already there keeps its first reason and time.
func (tx *Tx) AddSuppression(ctx context.Context, hash, reason string, now time.Time) error {
	_, err := tx.tx.ExecContext(ctx,
		"INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email_hash) DO NOTHING",
		hash, reason, ms(now))
	if err != nil {
		return fmt.Errorf("store: add suppression: %w", err)
	}
	return nil
}

// RemoveSuppressions lifts the suppression of an address (its hashes): the
// person confirmed a new subscription themselves.
func (tx *Tx) RemoveSuppressions(ctx context.Context, hashes ...string) error {
	for _, h := range hashes {
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM suppressions WHERE email_hash = ?", h); err != nil {
			return fmt.Errorf("store: remove suppression: %w", err)
		}
	}
	return nil
}

// SuppressionExists reports whether any of hashes (the forms of one
// address) is suppressed.
func (tx *Tx) SuppressionExists(ctx context.Context, hashes ...string) (bool, error) {
	found, err := tx.SuppressionsAmong(ctx, hashes)
	return len(found) > 0, err
}

// SuppressionsAmong returns which of hashes are suppressed.
func (tx *Tx) SuppressionsAmong(ctx context.Context, hashes []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(hashes); start += 500 {
		chunk := hashes[start:min(start+500, len(hashes))]
		args := make([]any, len(chunk))
		for i, h := range chunk {
			args[i] = h
		}
		rows, err := tx.tx.QueryContext(ctx,
			"SELECT email_hash FROM suppressions WHERE email_hash IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("store: check suppressions: %w", err)
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: check suppressions: %w", err)
			}
			out[h] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: check suppressions: %w", err)
		}
	}
	return out, nil
}

// SubscriberMail is a message queued for a subscriber, as the outbox holds it.
type SubscriberMail struct {
	ID        int64
	IdemKey   string
	Kind      string
	State     string
	Payload   string
	ReleaseID int64 // alerts: the version of the release this subscriber gets
	CreatedAt time.Time
	SentAt    time.Time // zero unless sent
	Subject   string    // as sent; "" unless sent
}

// SubscriberMails lists the messages queued or sent for a subscriber, oldest
// first (audit, tests).
func (db *DB) SubscriberMails(ctx context.Context, id int64) ([]SubscriberMail, error) {
	rows, err := db.read.QueryContext(ctx,
		"SELECT id, idem_key, kind, state, payload, COALESCE(release_id, 0), created_at, sent_at, subject FROM outbox WHERE subscriber_id = ? ORDER BY id", id)
	if err != nil {
		return nil, fmt.Errorf("store: mail of subscriber %d: %w", id, err)
	}
	defer rows.Close()
	var out []SubscriberMail
	for rows.Next() {
		var m SubscriberMail
		var created int64
		var sent sql.NullInt64
		if err := rows.Scan(&m.ID, &m.IdemKey, &m.Kind, &m.State, &m.Payload, &m.ReleaseID, &created, &sent, &m.Subject); err != nil {
			return nil, fmt.Errorf("store: mail of subscriber %d: %w", id, err)
		}
		m.CreatedAt, m.SentAt = fromMS(created), fromNullMS(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}
