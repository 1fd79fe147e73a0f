package releases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herald/internal/clocktest"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
)

func newService(t testing.TB) (*releases.Service, *clocktest.Clock) {
	t.Helper()
	c := clocktest.New(time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC))
	svc := releases.New(storetest.New(t), releases.Options{Now: c.Now})
	if _, err := svc.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc, c
}

func ptr[T any](v T) *T { return &v }

func list(v ...string) *releases.List { l := releases.List(v); return &l }

// valid returns a minimal valid input.
func valid() releases.Input {
	return releases.Input{
		Title:  ptr("Latin American Countries Agree on Road Map"),
		Body:   ptr("The road map was adopted in Buenos Aires.\n\nSecond paragraph."),
		Topics: list("migration"),
	}
}

func TestCreate_Validation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*releases.Input)
		field  string // "" means it must succeed
	}{
		{"valid", func(*releases.Input) {}, ""},
		{"missing title", func(in *releases.Input) { in.Title = nil }, "title"},
		{"blank title", func(in *releases.Input) { in.Title = ptr(" \r\n\t ") }, "title"},
		{"control-only title", func(in *releases.Input) { in.Title = ptr("\x00\x01\x1f") }, "title"},
		{"title 300 chars ok", func(in *releases.Input) { in.Title = ptr(strings.Repeat("é", 300)) }, ""},
		{"title 301 chars", func(in *releases.Input) { in.Title = ptr(strings.Repeat("a", 301)) }, "title"},
		{"missing body", func(in *releases.Input) { in.Body = nil }, "body"},
		{"script-only body", func(in *releases.Input) { in.Body = ptr("<script>alert(1)</script>") }, "body"},
		{"oversized body", func(in *releases.Input) { in.Body = ptr(strings.Repeat("a", releases.MaxBody+1)) }, "body"},
		{"bad body format", func(in *releases.Input) { in.BodyFormat = ptr("rtf") }, "body_format"},
		{"no topics", func(in *releases.Input) { in.Topics = list() }, "topics"},
		{"unknown topic", func(in *releases.Input) { in.Topics = list("migration", "nope") }, "topics"},
		{"unknown region", func(in *releases.Input) { in.Regions = list("atlantis") }, "regions"},
		{"summary too long", func(in *releases.Input) { in.Summary = ptr(strings.Repeat("s", 1001)) }, "summary"},
		{"bad url", func(in *releases.Input) { in.URL = ptr("javascript:alert(1)") }, "url"},
		{"url with newline", func(in *releases.Input) { in.URL = ptr("https://example.org/a\nb") }, "url"},
		{"bad slug", func(in *releases.Input) { in.Slug = ptr("Not A Slug") }, "slug"},
		{"bad language", func(in *releases.Input) { in.Language = ptr("klingon") }, "language"},
		{"unknown language", func(in *releases.Input) { in.Language = ptr("qq") }, "language"},
		{"bad published_at", func(in *releases.Input) { in.PublishedAt = ptr("yesterday") }, "published_at"},
		{"bad status", func(in *releases.Input) { in.Status = ptr("archived") }, "status"},
		{"bad contact email", func(in *releases.Input) {
			in.Contacts = &[]store.Contact{{Name: "A", Email: "not an address"}}
		}, "contacts[0].email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newService(t)
			in := valid()
			tt.change(&in)
			_, err := svc.Create(context.Background(), in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				return
			}
			var ve *releases.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("Create err = %v, want a validation error on %q", err, tt.field)
			}
		})
	}
}

func TestCreate_NormalizesAndDefaults(t *testing.T) {
	svc, c := newService(t)
	in := valid()
	in.Title = ptr("Road\r\nMap\tAdopted\x07 \xff")
	in.Language = ptr("FR-ca")
	in.Regions = list("argentina", "argentina", " americas ")
	r, err := svc.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "Road Map Adopted \uFFFD" {
		t.Errorf("title = %q", r.Title)
	}
	if r.Language != "fr" {
		t.Errorf("language = %q, want fr", r.Language)
	}
	if strings.Join(r.Regions, ",") != "argentina,americas" {
		t.Errorf("regions = %v", r.Regions)
	}
	if r.Summary != "The road map was adopted in Buenos Aires." || !r.SummaryDerived {
		t.Errorf("summary = %q (derived %v)", r.Summary, r.SummaryDerived)
	}
	if r.Status != "published" || !r.PublishedAt.Equal(c.Now()) || !r.LiveAt.Equal(c.Now()) {
		t.Errorf("status %q published %v live %v, want published now and live", r.Status, r.PublishedAt, r.LiveAt)
	}
	if r.Slug != "road-map-adopted" || !strings.HasPrefix(r.GUID, "urn:uuid:") {
		t.Errorf("slug %q guid %q", r.Slug, r.GUID)
	}
}

func TestCreate_SanitizesHTML(t *testing.T) {
	svc, _ := newService(t)
	for _, format := range []string{"html", "markdown"} {
		in := valid()
		in.BodyFormat = ptr(format)
		in.Body = ptr(`<p onclick="x()">Hello <a href="javascript:alert(1)">link</a> <a href="https://example.org">ok</a></p>` +
			`<script>alert(1)</script><style>p{}</style><img src="x" onerror="alert(1)"><iframe src="https://evil"></iframe>`)
		r, err := svc.Create(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "onclick", "javascript:", "<style", "onerror", "<iframe"} {
			if strings.Contains(strings.ToLower(r.BodyHTML), bad) {
				t.Errorf("%s body kept %q: %s", format, bad, r.BodyHTML)
			}
		}
		if !strings.Contains(r.BodyHTML, `href="https://example.org"`) {
			t.Errorf("%s body lost a safe link: %s", format, r.BodyHTML)
		}
		if format == "html" && r.Body != r.BodyHTML {
			t.Errorf("an HTML body is stored unsanitized: %s", r.Body)
		}
	}
}

func TestCreate_MarkdownRendered(t *testing.T) {
	svc, _ := newService(t)
	in := valid()
	in.Body = ptr("**Bold** and *it*.\n\n| a | b |\n|---|---|\n| 1 | 2 |")
	r, err := svc.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<strong>Bold</strong>", "<em>it</em>", "<table>"} {
		if !strings.Contains(r.BodyHTML, want) {
			t.Errorf("body_html lacks %q: %s", want, r.BodyHTML)
		}
	}
}

func TestSlugs_DerivedGetSuffixExplicitConflicts(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	var slugs []string
	for i := 0; i < 3; i++ {
		r, err := svc.Create(ctx, valid())
		if err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, r.Slug)
	}
	want := "latin-american-countries-agree-on-road-map"
	if slugs[0] != want || slugs[1] != want+"-2" || slugs[2] != want+"-3" {
		t.Fatalf("slugs = %v", slugs)
	}
	in := valid()
	in.Slug = ptr(want)
	_, err := svc.Create(ctx, in)
	if !errors.Is(err, releases.ErrConflict) {
		t.Fatalf("explicit taken slug: err = %v, want ErrConflict", err)
	}
	in.Title = ptr("اليمن")
	in.Slug = nil
	r, err := svc.Create(ctx, in)
	if err != nil || r.Slug != "release" {
		t.Fatalf("non-latin title: slug %q, %v", r.Slug, err)
	}
}

func TestUpdate_PartialKeepsIDGUIDAndSlug(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	r, err := svc.Create(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	u, err := svc.Update(ctx, r.ID, releases.Input{Title: ptr("A New Title"), Regions: list("americas")})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != r.ID || u.GUID != r.GUID || u.Slug != r.Slug {
		t.Fatalf("identity changed: %d/%s/%s -> %d/%s/%s", r.ID, r.GUID, r.Slug, u.ID, u.GUID, u.Slug)
	}
	if u.Title != "A New Title" || u.Body != r.Body || strings.Join(u.Regions, ",") != "americas" {
		t.Fatalf("update applied wrongly: %+v", u)
	}
	if !u.UpdatedAt.After(r.UpdatedAt) || !u.CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("times: created %v->%v updated %v->%v", r.CreatedAt, u.CreatedAt, r.UpdatedAt, u.UpdatedAt)
	}
	// A new body re-derives a derived summary.
	u, err = svc.Update(ctx, r.ID, releases.Input{Body: ptr("Fresh first paragraph.")})
	if err != nil || u.Summary != "Fresh first paragraph." {
		t.Fatalf("summary after body edit = %q, %v", u.Summary, err)
	}
	if _, err := svc.Update(ctx, 9999, releases.Input{Title: ptr("x")}); !errors.Is(err, releases.ErrNotFound) {
		t.Fatalf("update of unknown id: %v", err)
	}
}

func TestEmbargo_GoesLiveOnceWhenDue(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	in := valid()
	in.PublishedAt = ptr(c.Now().Add(10 * time.Minute).Format(time.RFC3339))
	r, err := svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !r.LiveAt.IsZero() || releases.IsLive(&r, c.Now()) {
		t.Fatal("embargoed release is live at creation")
	}
	if _, err := svc.GetLive(ctx, r.Slug); !errors.Is(err, releases.ErrNotFound) {
		t.Fatalf("embargoed release visible: %v", err)
	}
	if n, _ := svc.PublishDue(ctx); n != 0 {
		t.Fatalf("published %d before the embargo ends", n)
	}
	c.Add(10 * time.Minute)
	v := svc.Version()
	if n, err := svc.PublishDue(ctx); n != 1 || err != nil {
		t.Fatalf("PublishDue at embargo end = %d, %v", n, err)
	}
	select {
	case <-svc.Live():
	default:
		t.Fatal("no live signal")
	}
	if svc.Version() == v {
		t.Fatal("version did not change when a release went live")
	}
	c.Add(time.Minute)
	if n, _ := svc.PublishDue(ctx); n != 0 {
		t.Fatal("went live twice")
	}
	got, err := svc.GetLive(ctx, r.Slug)
	if err != nil || !got.LiveAt.Equal(r.PublishedAt) {
		t.Fatalf("live release: %v live_at %v", err, got.LiveAt)
	}
}

func TestDraft_NotLiveUntilPublished(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	in := valid()
	in.Status = ptr("draft")
	r, err := svc.Create(ctx, in)
	if err != nil || !r.LiveAt.IsZero() {
		t.Fatalf("draft: %v live_at %v", err, r.LiveAt)
	}
	if n, _ := svc.PublishDue(ctx); n != 0 {
		t.Fatal("a draft went live")
	}
	c.Add(time.Minute)
	u, err := svc.Update(ctx, r.ID, releases.Input{Status: ptr("published")})
	if err != nil || !u.LiveAt.Equal(c.Now()) || !u.PublishedAt.Equal(c.Now()) {
		t.Fatalf("published draft: %v live_at %v published_at %v, want both now", err, u.LiveAt, u.PublishedAt)
	}
	// A draft given an explicit time keeps it.
	in.PublishedAt = ptr("2026-01-01T00:00:00Z")
	d, _ := svc.Create(ctx, in)
	u, err = svc.Update(ctx, d.ID, releases.Input{Status: ptr("published"), PublishedAt: ptr("2026-01-01T00:00:00Z")})
	if err != nil || u.PublishedAt.Format(time.RFC3339) != "2026-01-01T00:00:00Z" {
		t.Fatalf("explicit time: %v %v", err, u.PublishedAt)
	}
}

func TestTranslationGroup_OneReleasePerLanguage(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	en := valid()
	en.TranslationKey = ptr("road-map")
	if _, err := svc.Create(ctx, en); err != nil {
		t.Fatal(err)
	}
	es := valid()
	es.TranslationKey, es.Language = ptr("road-map"), ptr("es")
	if _, err := svc.Create(ctx, es); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Create(ctx, en)
	var ve *releases.ValidationError
	if !errors.As(err, &ve) || ve.Field != "translation_key" {
		t.Fatalf("second English release in the group: %v", err)
	}
}

func TestList_FiltersAndCursor(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	mk := func(title, lang string, topics, regions []string) {
		in := valid()
		in.Title, in.Language, in.Topics, in.Regions = ptr(title), ptr(lang), list(topics...), list(regions...)
		if _, err := svc.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
	}
	mk("one", "en", []string{"migration"}, []string{"argentina"})
	mk("two", "fr", []string{"human-trafficking"}, []string{"france"})
	mk("three", "en", []string{"migration"}, nil)
	mk("four", "es", []string{"displacement"}, []string{"americas"})
	titles := func(q releases.ListQuery) string {
		p, err := svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range p.Items {
			out = append(out, r.Title)
		}
		return strings.Join(out, ",")
	}
	if got := titles(releases.ListQuery{}); got != "four,three,two,one" {
		t.Errorf("all = %s", got)
	}
	if got := titles(releases.ListQuery{Regions: []string{"americas"}}); got != "four,one" {
		t.Errorf("region americas (with descendants) = %s", got)
	}
	if got := titles(releases.ListQuery{Topics: []string{"migration"}, Langs: []string{"en"}}); got != "three,one" {
		t.Errorf("topic+lang = %s", got)
	}
	// Walk pages of two.
	var seen []string
	q := releases.ListQuery{Limit: 2}
	for i := 0; i < 5; i++ {
		p, err := svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			seen = append(seen, r.Title)
		}
		if p.NextCursor == "" {
			break
		}
		cur, err := releases.DecodeCursor(p.NextCursor)
		if err != nil {
			t.Fatal(err)
		}
		q.After = &cur
	}
	if strings.Join(seen, ",") != "four,three,two,one" {
		t.Errorf("paged = %v", seen)
	}
	if _, err := svc.List(ctx, releases.ListQuery{Topics: []string{"nope"}}); err == nil {
		t.Error("unknown topic filter accepted")
	}
	if _, err := releases.DecodeCursor("!!"); err == nil {
		t.Error("bad cursor accepted")
	}
}

func TestAddTerm(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.AddTerm(ctx, store.Regions, store.Term{Slug: "buenos-aires", Name: "Buenos Aires", Parent: "argentina",
		Names: map[string]string{"ES": "Buenos Aires"}}); err != nil {
		t.Fatal(err)
	}
	tax, _ := svc.Taxonomy(ctx)
	if !tax.Within("buenos-aires", "americas") {
		t.Fatal("new region is not within its grandparent")
	}
	_, err := svc.AddTerm(ctx, store.Regions, store.Term{Slug: "buenos-aires", Name: "Again"})
	if !errors.Is(err, releases.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []store.Term{{Slug: "Bad Slug", Name: "x"}, {Slug: "ok", Name: ""}, {Slug: "ok2", Name: "x", Parent: "nowhere"}} {
		var ve *releases.ValidationError
		if _, err := svc.AddTerm(ctx, store.Regions, bad); !errors.As(err, &ve) {
			t.Errorf("AddTerm(%+v) err = %v, want validation error", bad, err)
		}
	}
}

func TestDecodeInput_ListForms(t *testing.T) {
	for _, js := range []string{
		`{"topics":["migration","refugees"]}`,
		`{"topics":"migration, refugees"}`,
		`{"topics":["migration,refugees"]}`,
	} {
		in, err := releases.DecodeInput([]byte(js))
		if err != nil || in.Topics == nil || strings.Join(*in.Topics, "|") != "migration|refugees" {
			t.Errorf("%s -> %v, %v", js, in.Topics, err)
		}
	}
	var ve *releases.ValidationError
	if _, err := releases.DecodeInput([]byte(`{"topics":5}`)); !errors.As(err, &ve) || ve.Field != "topics" {
		t.Errorf("wrong type: %v", err)
	}
}
