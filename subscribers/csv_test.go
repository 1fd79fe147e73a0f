package subscribers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/store"
)

func importString(t *testing.T, f *fixture, s string) ImportResult {
	t.Helper()
	res, err := f.svc.Import(context.Background(), strings.NewReader(s), ImportOptions{Consent: Consent{IP: "cli"}})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

func TestImport_RowsAndErrors(t *testing.T) {
	f := newFixture(t)
	in := "email,topics,regions,language,cadence,timezone,status\n" +
		"ana@example.org,migration;refugees,argentina,es,weekly,America/Argentina/Buenos_Aires,\n" +
		"not-an-address,,,,,,\n" +
		"bob@Example.org,,,,,,pending\n" +
		"carla@example.org,space-travel,,,,,\n" +
		"dan@example.org,,,,,Mars/Base,\n" +
		"\"broken,quote\n"
	res := importString(t, f, in)
	if res.Added != 2 || res.Updated != 0 || res.Skipped != 0 || len(res.Errors) != 4 {
		t.Fatalf("result %+v", res)
	}
	wantLines := []int{3, 5, 6, 7}
	for i, e := range res.Errors {
		if e.Line != wantLines[i] {
			t.Errorf("error %d on line %d, want %d (%s)", i, e.Line, wantLines[i], e.Error)
		}
	}
	if !strings.HasPrefix(res.Errors[1].Error, "topics:") || !strings.HasPrefix(res.Errors[2].Error, "timezone:") {
		t.Errorf("errors do not name the field: %+v", res.Errors)
	}
	ana := f.mustGet(t, "ana@example.org")
	if ana.Status != store.SubscriberActive || ana.ConfirmedAt.IsZero() || ana.DigestSince.IsZero() ||
		ana.Language != "es" || ana.Cadence != "weekly" || strings.Join(ana.Topics, ",") != "migration,refugees" ||
		ana.ConsentPage != "import" || ana.ConsentAt.IsZero() {
		t.Fatalf("imported row %+v", ana)
	}
	bob := f.mustGet(t, "bob@example.org")
	if bob.Status != store.SubscriberPending || bob.Timezone != "Europe/Zurich" || bob.Cadence != "daily" {
		t.Fatalf("imported pending row %+v", bob)
	}
	if n := len(f.mails(t, ana.ID)) + len(f.mails(t, bob.ID)); n != 0 {
		t.Fatalf("import queued %d mails", n)
	}
}

func TestImport_SameFileTwiceChangesNothing(t *testing.T) {
	f := newFixture(t)
	in := "email,topics,regions,language,cadence,timezone,status\n" +
		"ana@example.org,migration,,fr,daily,Europe/Paris,active\n" +
		"bob@example.org,,europe,en,weekly,UTC,unsubscribed\n" +
		"ana@example.org,migration,,fr,daily,Europe/Paris,active\n"
	first := importString(t, f, in)
	if first.Added != 2 || first.Skipped != 1 {
		t.Fatalf("first import %+v", first)
	}
	before := f.mustGet(t, "ana@example.org")
	f.clock.Add(time.Hour)
	second := importString(t, f, in)
	if second.Added != 0 || second.Updated != 0 || second.Skipped != 3 || len(second.Errors) != 0 {
		t.Fatalf("second import %+v, want every row skipped", second)
	}
	if after := f.mustGet(t, "ana@example.org"); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("re-import touched updated_at")
	}
}

func TestImport_NeverResurrects(t *testing.T) {
	f := newFixture(t)
	importString(t, f, "email,status\nana@example.org,unsubscribed\nbob@example.org,bounced\ncarla@example.org,pending\n")
	res := importString(t, f, "email,status,cadence\nana@example.org,active,\nbob@example.org,,weekly\ncarla@example.org,active,\nana@example.org,pending,\n")
	if res.Updated != 2 || res.Skipped != 2 {
		t.Fatalf("result %+v", res)
	}
	if s := f.mustGet(t, "ana@example.org"); s.Status != store.SubscriberUnsubscribed {
		t.Fatalf("import made an unsubscribed subscriber %s", s.Status)
	}
	if s := f.mustGet(t, "bob@example.org"); s.Status != store.SubscriberBounced || s.Cadence != "weekly" {
		t.Fatalf("bounced subscriber: %+v", s)
	}
	if s := f.mustGet(t, "carla@example.org"); s.Status != store.SubscriberActive || s.ConfirmedAt.IsZero() {
		t.Fatalf("pending made active by import: %+v", s)
	}
	// A row may unsubscribe an active subscriber (an opt-out kept elsewhere).
	res = importString(t, f, "email,status\ncarla@example.org,unsubscribed\n")
	if s := f.mustGet(t, "carla@example.org"); res.Updated != 1 || s.Status != store.SubscriberUnsubscribed {
		t.Fatalf("unsubscribe by import: %+v %+v", res, s)
	}
}

func TestImport_SkipsSuppressed(t *testing.T) {
	f := newFixture(t)
	importString(t, f, "email\nana@example.org\n")
	if err := f.svc.Erase(context.Background(), f.mustGet(t, "ana@example.org").ID); err != nil {
		t.Fatal(err)
	}
	res := importString(t, f, "email\nana@example.org\n")
	if res.Skipped != 1 || res.Added != 0 {
		t.Fatalf("result %+v", res)
	}
	if _, ok := f.byEmail(t, "ana@example.org"); ok {
		t.Fatal("import brought back an erased address")
	}
}

func TestImport_BadFile(t *testing.T) {
	f := newFixture(t)
	for name, in := range map[string]string{
		"empty":     "",
		"no header": "ana@example.org,migration\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Import(context.Background(), strings.NewReader(in), ImportOptions{})
			if !errors.Is(err, ErrBadCSV) {
				t.Fatalf("err = %v, want ErrBadCSV", err)
			}
		})
	}
}

// An export imports back unchanged, hostile cells included; cells that a
// spreadsheet would run as formulas are neutralized in the file.
func TestExportImport_RoundTripWithHostileCells(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addresses := []string{"=cmd|'/C.calc'!A0@example.org", "+1+1@example.org", "-2@example.org", "o'brien@example.org", "plain@example.org"}
	for i, a := range addresses {
		_, err := f.svc.Add(ctx, AddRequest{Email: a, Confirmed: i%2 == 0, Prefs: PrefsInput{Topics: list("migration", "gender"), Regions: list("europe")}})
		if err != nil {
			t.Fatalf("Add(%q): %v", a, err)
		}
	}
	var buf bytes.Buffer
	n, err := f.svc.Export(ctx, &buf, nil)
	if err != nil || n != len(addresses) {
		t.Fatalf("Export: %d, %v", n, err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "email,topics,regions,language,cadence,timezone,status" {
		t.Fatalf("header %q", recs[0])
	}
	for _, r := range recs[1:] {
		if strings.ContainsRune("=+-@", rune(r[0][0])) {
			t.Errorf("formula cell exported as is: %q", r[0])
		}
		if r[1] != "gender;migration" || r[2] != "europe" {
			t.Errorf("lists exported as %q, %q", r[1], r[2])
		}
	}
	if recs[1][0] != "'=cmd|'/C.calc'!A0@example.org" {
		t.Errorf("first cell %q", recs[1][0])
	}

	other := newFixture(t)
	res, err := other.svc.Import(ctx, bytes.NewReader(buf.Bytes()), ImportOptions{})
	if err != nil || res.Added != len(addresses) || len(res.Errors) != 0 {
		t.Fatalf("import of the export: %+v, %v", res, err)
	}
	for i, a := range addresses {
		s := other.mustGet(t, a)
		want := store.SubscriberPending
		if i%2 == 0 {
			want = store.SubscriberActive
		}
		if s.Status != want || strings.Join(s.Topics, ",") != "gender,migration" {
			t.Errorf("%s came back as %+v", a, s)
		}
	}
	// And into the database it came from, it changes nothing.
	res, err = f.svc.Import(ctx, bytes.NewReader(buf.Bytes()), ImportOptions{})
	if err != nil || res.Skipped != len(addresses) {
		t.Fatalf("re-import of the export: %+v, %v", res, err)
	}
}

func TestImport_ManyBatches(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("email,cadence\n")
	rows := 2*ImportBatch + 17
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "user%d@example.org,weekly\n", i)
	}
	calls := 0
	res, err := f.svc.Import(context.Background(), strings.NewReader(b.String()), ImportOptions{Progress: func(ImportResult) { calls++ }})
	if err != nil || res.Added != rows {
		t.Fatalf("%+v, %v", res, err)
	}
	if calls != 3 {
		t.Fatalf("progress called %d times, want once per batch (3)", calls)
	}
	page, err := f.svc.List(context.Background(), ListQuery{Limit: 200})
	if err != nil || len(page.Items) != 200 || page.NextCursor == "" {
		t.Fatalf("list: %d items, cursor %q, %v", len(page.Items), page.NextCursor, err)
	}
}

// Batches may be written side by side (PostgreSQL): an address in several
// batches still ends with its last row, as in one pass over the file, and
// the counts are those of one pass.
func TestImport_LaterRowWinsAcrossBatches(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("email,language,cadence\n")
	// Addresses new to the database in the last rows of one batch and the
	// first rows of the next: both batches would insert them.
	const edge = 50
	for i := 0; i < 4*ImportBatch; i++ {
		lang, email := "en", fmt.Sprintf("more%d@example.org", i)
		if j := i % ImportBatch; j >= ImportBatch-edge {
			lang, email = "fr", fmt.Sprintf("edge%d-%d@example.org", i/ImportBatch, j-(ImportBatch-edge))
		} else if j < edge && i >= ImportBatch {
			lang, email = "ar", fmt.Sprintf("edge%d-%d@example.org", i/ImportBatch-1, j)
		}
		fmt.Fprintf(&b, "%s,%s,weekly\n", email, lang)
	}
	// One address on the last row of each batch and the second of the next.
	langs := []string{"fr", "es", "ar", "en"}
	rows := 5*ImportBatch + 3
	for i := 0; i < rows; i++ {
		email, lang := fmt.Sprintf("user%d@example.org", i), "en"
		if i%ImportBatch == ImportBatch-1 || i%ImportBatch == 1 {
			email, lang = "Shared@Example.org", langs[(i/ImportBatch)%len(langs)]
		}
		fmt.Fprintf(&b, "%s,%s,weekly\n", email, lang)
	}
	fmt.Fprintf(&b, "shared@example.org,es,daily\n") // the very last row
	res, err := f.svc.Import(context.Background(), strings.NewReader(b.String()), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Each edge address: added, then changed. The shared address is on 12
	// rows: added by the first, changed by the first row of each later
	// batch (5) and the file's last row, left as it was by the other 5
	// (the language of the row before).
	edges := 3 * edge
	if want := (4*ImportBatch - edges) + (rows - 11 + 1); res.Added != want || res.Updated != edges+6 || res.Skipped != 5 {
		t.Fatalf("%+v: want %d added, %d updated, 5 skipped", res, want, edges+6)
	}
	byEmail := map[string]store.Subscriber{}
	err = f.db.EachSubscriber(context.Background(), func(s *store.Subscriber) error {
		byEmail[s.Email] = *s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		for j := 0; j < edge; j++ {
			if s := byEmail[fmt.Sprintf("edge%d-%d@example.org", k, j)]; s.Language != "ar" {
				t.Fatalf("edge%d-%d ends in %q, want ar (its later row)", k, j, s.Language)
			}
		}
	}
	s := byEmail["Shared@example.org"] // the address as first stored
	if s.Language != "es" || s.Cadence != "daily" {
		t.Fatalf("shared address ends with %s/%s, want the file's last row (es/daily)", s.Language, s.Cadence)
	}
}
