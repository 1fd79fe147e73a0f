package subscribers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"herald/store"
)

// CSVHeader is the header of an export, and the columns an import knows
// (SPEC 3). Lists are separated by ';'.
var CSVHeader = []string{"email", "topics", "regions", "language", "cadence", "timezone", "status"}

// ImportBatch is how many rows go into one transaction.
const ImportBatch = 1000

// maxImportErrors caps the per-row errors listed in a result.
const maxImportErrors = 1000

// RowError is a row that was not imported.
type RowError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// ImportResult counts what an import did. Added rows are new subscribers;
// Updated rows changed an existing one; Skipped rows changed nothing: the
// same data as stored (re-importing a file skips every row), a suppressed
// address, or an unsubscribed or bounced subscriber whom the row would
// have made active or pending again.
type ImportResult struct {
	Added         int        `json:"added"`
	Updated       int        `json:"updated"`
	Skipped       int        `json:"skipped"`
	Errors        []RowError `json:"errors"`
	ErrorsOmitted int        `json:"errors_omitted,omitempty"` // past the first 1,000
}

func (r *ImportResult) fail(line int, err error) {
	if len(r.Errors) >= maxImportErrors {
		r.ErrorsOmitted++
		return
	}
	msg := err.Error()
	var ve *ValidationError
	if errors.As(err, &ve) {
		msg = ve.Field + ": " + ve.Msg
	}
	r.Errors = append(r.Errors, RowError{Line: line, Error: msg})
}

// Rows is how many rows were read so far.
func (r *ImportResult) Rows() int {
	return r.Added + r.Updated + r.Skipped + len(r.Errors) + r.ErrorsOmitted
}

// ImportOptions configures Import.
type ImportOptions struct {
	Consent  Consent                 // recorded for rows made active: who imported (IP), page "import"
	Progress func(done ImportResult) // called after every batch
}

// importRow is a valid row waiting for its batch.
type importRow struct {
	line   int
	email  string
	hashes []string   // suppressionHashes
	prefs  PrefsInput // validated; nil fields were absent or empty
	status string     // "" when absent or empty
}

// Import reads subscribers from CSV, streaming it in batches of ImportBatch
// rows per transaction. The first row is the header; its columns may come
// in any order and only email is required; unknown columns are ignored.
// Empty topics or regions mean all; an empty language, cadence or timezone
// keeps the stored value (or the default). A new address is added with the
// row's status (default active: the staff who import vouch for the
// consent; no mail is sent). An existing subscriber takes the row's
// preferences; the row may unsubscribe or bounce them, or activate a
// pending one, but never makes an unsubscribed or bounced subscriber active
// or pending again (that needs their own consent). Suppressed addresses are
// skipped silently. Invalid rows are listed in Errors and the rest go on.
// A field over MaxCSVField makes its row an error; a row over MaxCSVRow,
// or input that stops (an upload cut short), ends the import with a
// *ReadError naming the line: the rows before it stay imported.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	res, err := s.importCSV(ctx, r, opts)
	if err == nil || res.Added+res.Updated > 0 {
		s.record(ctx, "subscriber.import", 0, map[string]any{"added": res.Added, "updated": res.Updated, "skipped": res.Skipped,
			"errors": len(res.Errors) + res.ErrorsOmitted})
	}
	return res, err
}

func (s *Service) importCSV(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{Errors: []RowError{}}
	lim := newRowLimiter(r, MaxCSVRow)
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return res, fmt.Errorf("%w: the file is empty; the first row must be the header %s", ErrBadCSV, strings.Join(CSVHeader, ","))
		}
		var pe *csv.ParseError
		if !errors.As(err, &pe) && !errors.Is(err, ErrRowTooLong) {
			return res, &ReadError{Line: 1, Result: res, Err: err}
		}
		return res, fmt.Errorf("%w: header: %v", ErrBadCSV, err)
	}
	cols, err := columns(header)
	if err != nil {
		return res, err
	}
	v, err := s.validator(ctx)
	if err != nil {
		return res, err
	}
	if err := s.db.PrepareSubscriberWrites(ctx); err != nil {
		return res, err
	}
	// Reading and checking rows (one core) runs beside writing the
	// previous batch (the database's work): a batch is parsed while the one
	// before it is written.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan parsedBatch, 1)
	go readBatches(rctx, cr, lim, v, cols, batches)
	defer func() {
		cancel()
		for range batches { // wait until the reader stopped reading r
		}
	}()
	w := newBatchWriters(rctx, s.db.Writers(), cancel)
	var mu sync.Mutex            // res, shared by the writers
	var recent []map[string]bool // the addresses of the batches that may be in flight
	for b := range batches {
		mu.Lock()
		for _, f := range b.fails {
			res.fail(f.line, f.err)
		}
		mu.Unlock()
		if len(b.rows) > 0 {
			// A batch with an address of a batch that may still be in
			// flight waits for it: the later row of a file wins, as in one
			// pass.
			keys := make(map[string]bool, len(b.rows))
			overlap := false
			for _, r := range b.rows {
				k := store.AddressKey(r.email)
				keys[k] = true
				for _, m := range recent {
					overlap = overlap || m[k]
				}
			}
			if recent = append(recent, keys); len(recent) > w.n-1 {
				recent = recent[1:]
			}
			rows := b.rows
			w.start(overlap, func() error {
				var one ImportResult
				if err := s.importBatch(rctx, rows, opts.Consent, &one); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				res.Added, res.Updated, res.Skipped = res.Added+one.Added, res.Updated+one.Updated, res.Skipped+one.Skipped
				if opts.Progress != nil {
					opts.Progress(res)
				}
				return nil
			})
		}
		if b.stop != nil {
			// The input stopped (cut short, a row over MaxCSVRow): what was
			// read before stays imported; say where it stopped.
			if err := w.wait(); err != nil {
				return res, err
			}
			if err := s.db.FlushLog(ctx); err != nil {
				return res, err
			}
			return res, &ReadError{Line: b.stopLine, Result: res, Err: b.stop}
		}
	}
	if err := w.wait(); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// Batches were committed without waiting for the disk (DeferFlush):
	// the result is reported once they all are on it.
	if err := s.db.FlushLog(ctx); err != nil {
		return res, err
	}
	s.log.Info("subscribers imported", "added", res.Added, "updated", res.Updated, "skipped", res.Skipped, "errors", len(res.Errors)+res.ErrorsOmitted)
	return res, nil
}

// batchWriters writes an import's batches, up to n at once where the
// database takes several writers (PostgreSQL), in order otherwise. Batch
// k never starts before batch k-n has finished, so at most n consecutive
// batches are in flight, and a batch started with after set waits for all
// of those before it.
type batchWriters struct {
	ctx    context.Context
	n      int
	cancel func()
	slots  chan struct{}
	done   []chan struct{} // of the last n batches started, oldest first
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newBatchWriters(ctx context.Context, n int, cancel func()) *batchWriters {
	n = max(1, n)
	return &batchWriters{ctx: ctx, n: n, cancel: cancel, slots: make(chan struct{}, n)}
}

// start runs write once a slot is free (and, with after, once the previous
// batch finished). The first error cancels the import's context.
func (w *batchWriters) start(after bool, write func() error) {
	var waits []chan struct{}
	switch {
	case after:
		waits = slices.Clone(w.done) // the oldest among them
	case len(w.done) == w.n:
		waits = w.done[:1]
	}
	if len(w.done) == w.n {
		w.done = w.done[1:]
	}
	mine := make(chan struct{})
	w.done = append(w.done, mine)
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		close(mine)
		return
	}
	w.wg.Add(1)
	go func() {
		defer func() {
			close(mine)
			<-w.slots
			w.wg.Done()
		}()
		for _, c := range waits {
			select {
			case <-c:
			case <-w.ctx.Done():
				return
			}
		}
		if w.ctx.Err() != nil {
			return
		}
		if err := write(); err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
			w.cancel()
		}
	}()
}

// wait waits for every batch started and returns the first error.
func (w *batchWriters) wait() error {
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// parsedBatch is up to ImportBatch valid rows, the rows before them that
// were not valid, and, last, why the input stopped early (stop).
type parsedBatch struct {
	rows     []importRow
	fails    []rowFail
	stop     error
	stopLine int
}

type rowFail struct {
	line int
	err  error
}

// readBatches reads and checks the rows of cr, sending them in batches
// until the input ends or ctx is done; it closes out when it returns.
func readBatches(ctx context.Context, cr *csv.Reader, lim *rowLimiter, v *validator, cols map[string]int, out chan<- parsedBatch) {
	defer close(out)
	b := parsedBatch{rows: make([]importRow, 0, ImportBatch)}
	send := func() bool {
		select {
		case out <- b:
			b = parsedBatch{rows: make([]importRow, 0, ImportBatch)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			send()
			return
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, csv.ErrFieldCount) {
			b.fails = append(b.fails, rowFail{pe.StartLine, fmt.Errorf("not valid CSV: %v", pe.Err)})
			if len(b.fails) == ImportBatch && !send() {
				return
			}
			continue
		}
		if err != nil {
			b.stop, b.stopLine = err, lim.stoppedAt()
			send()
			return
		}
		line, _ := cr.FieldPos(0)
		row, err := parseRow(v, cols, rec)
		if err != nil {
			b.fails = append(b.fails, rowFail{line, err})
			if len(b.fails) == ImportBatch && !send() {
				return
			}
			continue
		}
		row.line = line
		b.rows = append(b.rows, row)
		if len(b.rows) == ImportBatch && !send() {
			return
		}
	}
}

// columns maps the known columns of a header to their index (-1: absent).
func columns(header []string) (map[string]int, error) {
	cols := map[string]int{}
	for _, c := range CSVHeader {
		cols[c] = -1
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if _, ok := cols[h]; ok && cols[h] < 0 {
			cols[h] = i
		}
	}
	if cols["email"] < 0 {
		return nil, fmt.Errorf("%w: the first row must be a header with an email column, such as %s", ErrBadCSV, strings.Join(CSVHeader, ","))
	}
	return cols, nil
}

// parseRow validates one record.
func parseRow(v *validator, cols map[string]int, rec []string) (importRow, error) {
	cell := func(name string) (string, bool) {
		i := cols[name]
		if i < 0 || i >= len(rec) {
			return "", false
		}
		return unneutralize(rec[i]), true
	}
	var row importRow
	for i := range rec {
		if len(rec[i]) > MaxCSVField {
			return row, fmt.Errorf("column %d is longer than %d KiB", i+1, MaxCSVField>>10)
		}
	}
	e, _ := cell("email")
	email, err := NormalizeAddress(e)
	if err != nil {
		return row, err
	}
	row.email, row.hashes = email, suppressionHashes(e, email)
	var in PrefsInput
	if t, ok := cell("topics"); ok {
		l := splitCell(t)
		in.Topics = &l
	}
	if r, ok := cell("regions"); ok {
		l := splitCell(r)
		in.Regions = &l
	}
	for name, dst := range map[string]**string{"language": &in.Language, "cadence": &in.Cadence, "timezone": &in.Timezone} {
		if x, ok := cell(name); ok && strings.TrimSpace(x) != "" {
			*dst = &x
		}
	}
	if row.prefs, err = v.patch(in); err != nil {
		return row, err
	}
	if st, ok := cell("status"); ok {
		row.status = strings.ToLower(strings.TrimSpace(st))
		if row.status != "" && !validStatus(row.status) {
			return row, invalid("status", "must be pending, active, unsubscribed or bounced")
		}
	}
	return row, nil
}

// splitCell splits "a; b;;c" (',' is taken too).
func splitCell(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// importBatch writes one batch in one transaction.
func (s *Service) importBatch(ctx context.Context, batch []importRow, c Consent, res *ImportResult) error {
	emails := make([]string, len(batch))
	hashes := make([]string, 0, len(batch))
	for i, r := range batch {
		emails[i] = r.email
		hashes = append(hashes, r.hashes...)
	}
	now := s.clock()
	var added, updated, skipped int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The run's last write (or FlushLog) makes this batch durable.
		if err := tx.DeferFlush(ctx); err != nil {
			return err
		}
		added, updated, skipped = 0, 0, 0
		existing, err := tx.SubscribersByEmail(ctx, emails)
		if err != nil {
			return err
		}
		suppressed, err := tx.SuppressionsAmong(ctx, hashes)
		if err != nil {
			return err
		}
		w, err := tx.SubscriberWriter(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		var evs []importEvent
		for _, row := range batch {
			if isSuppressed(suppressed, row.hashes) {
				skipped++
				continue
			}
			key := AddressKey(row.email)
			old, found := existing[key]
			sub, change := s.importChange(row, old, found, c, now)
			switch {
			case change == importSkip:
				skipped++
				continue
			case change == importAdd:
				err = w.Insert(ctx, &sub)
				added++
				if ev := statusEvent("", sub.Status); ev == store.EventSubscriberConfirmed {
					evs = append(evs, importEvent{ev, &sub})
				}
			default:
				if ev := statusEvent(old.Status, sub.Status); ev != "" {
					evs = append(evs, importEvent{ev, &sub})
				}
				if sub.Status != old.Status && sub.Status != store.SubscriberActive {
					if _, err := tx.CancelQueued(ctx, now, sub.ID, "subscriber "+sub.Status); err != nil {
						return err
					}
				}
				err = w.Update(ctx, &sub)
				updated++
			}
			if err != nil {
				return err
			}
			existing[key] = sub
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		return recordImportEvents(ctx, tx, evs, now)
	})
	if err != nil {
		return err
	}
	res.Added, res.Updated, res.Skipped = res.Added+added, res.Updated+updated, res.Skipped+skipped
	return nil
}

// importEvent is a subscriber event an import row causes, recorded once
// the batch is written (new rows have their id then).
type importEvent struct {
	typ string
	sub *store.Subscriber
}

// recordImportEvents records the subscriber events of a batch with one
// multi-row insert per 200, and only the types some active webhook
// subscribes to (store.EventsWanted): subscriber events feed webhooks only,
// and recording a million that no one receives made a 100,000-row import
// about three times slower. The rules (see statusEvent): a new row imported active is
// subscriber.confirmed, as a subscriber added with "confirmed": true (its
// consent is vouched for by the staff who import); a new row imported
// pending, unsubscribed or bounced records nothing (history from another
// list, never delivered to here); an existing subscriber whom the row
// activates, unsubscribes or bounces records what the same change by staff
// records.
func recordImportEvents(ctx context.Context, tx *store.Tx, evs []importEvent, now time.Time) error {
	if len(evs) == 0 {
		return nil
	}
	wanted, err := tx.EventsWanted(ctx, store.EventSubscriberConfirmed, store.EventSubscriberUnsubscribe, store.EventSubscriberBounced)
	if err != nil {
		return err
	}
	in := make([]store.EventInput, 0, len(evs))
	for _, e := range evs {
		if !wanted[e.typ] {
			continue
		}
		ev, err := subscriberEvent(e.typ, e.sub, now)
		if err != nil {
			return err
		}
		in = append(in, ev)
	}
	return tx.RecordEvents(ctx, in)
}

func isSuppressed(suppressed map[string]bool, hashes []string) bool {
	for _, h := range hashes {
		if suppressed[h] {
			return true
		}
	}
	return false
}

type importChange int

const (
	importSkip importChange = iota
	importAdd
	importUpdate
)

// importChange decides what a row does to the stored subscriber (see Import).
func (s *Service) importChange(row importRow, old store.Subscriber, found bool, c Consent, now time.Time) (store.Subscriber, importChange) {
	if !found {
		v := validator{defaultTZ: s.defaultTZ}
		sub := store.Subscriber{Email: row.email, CreatedAt: now, UpdatedAt: now}
		row.prefs.apply(v.defaults()).applyTo(&sub)
		switch row.status {
		case "", store.SubscriberActive:
			activate(&sub, now)
			setConsent(&sub, Consent{IP: c.IP, Page: "import"}, now)
		case store.SubscriberPending:
			sub.Status = store.SubscriberPending
		case store.SubscriberUnsubscribed:
			unsubscribe(&sub, now)
		case store.SubscriberBounced:
			sub.Status, sub.BouncedAt = store.SubscriberBounced, now
		}
		return sub, importAdd
	}
	sub := old
	gone := old.Status == store.SubscriberUnsubscribed || old.Status == store.SubscriberBounced
	if gone && (row.status == store.SubscriberActive || row.status == store.SubscriberPending) {
		return old, importSkip
	}
	row.prefs.apply(PrefsOf(&old)).applyTo(&sub)
	switch {
	case row.status == "" || row.status == old.Status:
	case row.status == store.SubscriberUnsubscribed:
		unsubscribe(&sub, now)
	case row.status == store.SubscriberBounced:
		sub.Status, sub.BouncedAt = store.SubscriberBounced, now
	case row.status == store.SubscriberActive: // old is pending
		activate(&sub, now)
		setConsent(&sub, Consent{IP: c.IP, Page: "import"}, now)
	}
	// An active subscriber is not made pending again: nothing to confirm.
	if sub.Status == old.Status && PrefsOf(&sub).equal(PrefsOf(&old)) {
		return old, importSkip
	}
	sub.UpdatedAt = now
	return sub, importUpdate
}

// Export writes every subscriber as CSV (CSVHeader), streaming rows in id
// order from one read snapshot. Cells that a spreadsheet would take for a
// formula (starting with = + - @, tab or CR) get a leading apostrophe;
// Import removes it again. progress, if not nil, is called every 1,000 rows.
func (s *Service) Export(ctx context.Context, w io.Writer, progress func(rows int)) (int, error) {
	n, err := s.exportCSV(ctx, w, progress)
	s.record(ctx, "subscriber.export", 0, map[string]any{"rows": n, "complete": err == nil})
	return n, err
}

func (s *Service) exportCSV(ctx context.Context, w io.Writer, progress func(rows int)) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, fmt.Errorf("subscribers: export: %w", err)
	}
	n := 0
	rec := make([]string, len(CSVHeader))
	err := s.db.EachSubscriber(ctx, func(sub *store.Subscriber) error {
		rec[0] = neutralize(sub.Email)
		rec[1] = neutralize(strings.Join(sub.Topics, ";"))
		rec[2] = neutralize(strings.Join(sub.Regions, ";"))
		rec[3] = neutralize(sub.Language)
		rec[4] = neutralize(sub.Cadence)
		rec[5] = neutralize(sub.Timezone)
		rec[6] = neutralize(sub.Status)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("subscribers: export: %w", err)
		}
		n++
		if n%1000 == 0 {
			cw.Flush()
			if progress != nil {
				progress(n)
			}
		}
		return cw.Error()
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if progress != nil {
		progress(n)
	}
	return n, err
}

// neutralize defuses CSV formula injection (OWASP): a cell that starts with
// = + - @, a tab or a CR is prefixed with an apostrophe.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// unneutralize reverses neutralize, so that an export imports as it was.
func unneutralize(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
