package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

var searchNow = time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC)

// seedSearch stores releases of (slug, language, title, body HTML), one
// minute apart, the first the oldest.
func seedSearch(t *testing.T, db *store.DB, docs [][4]string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for i, d := range docs {
		at := searchNow.Add(time.Duration(i-len(docs)) * time.Minute)
		r := store.Release{GUID: "urn:uuid:" + d[0], Slug: d[0], Title: d[2], Summary: "", Body: d[3], BodyFormat: "html",
			BodyHTML: d[3], Language: d[1], Topics: []string{"t"}, Status: "published", PublishedAt: at, CreatedAt: at, UpdatedAt: at}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertRelease(ctx, &r) }); err != nil {
			t.Fatal(err)
		}
		ids[d[0]] = r.ID
	}
	return ids
}

func search(t *testing.T, db *store.DB, q string, order store.SearchOrder) []store.SearchHit {
	t.Helper()
	hits, err := db.SearchReleases(context.Background(), store.SearchQuery{
		Filter: store.ReleaseFilter{Status: "live", LiveAt: searchNow, Limit: 20},
		Terms:  store.SearchTerms(q), Order: order, Snip: true,
	})
	if err != nil {
		t.Fatalf("search %.40q: %v", q, err)
	}
	return hits
}

func slugs(hits []store.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Release.Slug)
	}
	return out
}

func TestSearchReleases_AccentsCaseLanguagesRanking(t *testing.T) {
	db := storetest.New(t)
	seedSearch(t, db, [][4]string{
		{"fr-evac", "fr", "Évacuation des familles à Port-au-Prince", "<p>L&#39;équipe a organisé l&#39;évacuation de 300 personnes.</p>"},
		{"en-body", "en", "Shelter update", "<p>After the EVACUATION, shelters opened in <strong>three</strong> towns.</p>"},
		{"ar-title", "ar", "إجلاء العائلات من المدينة", "<p>أعلنت المنظمة عن خطة جديدة للمهاجرين.</p>"},
		{"es-other", "es", "Migración y trabajo", "<p>Un informe sobre la migración laboral en la región.</p>"},
	})
	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"case and accents, title ranks first", "Evacuation", []string{"fr-evac", "en-body"}},
		{"accented query finds plain text", "évacuation", []string{"fr-evac", "en-body"}},
		{"upper-case accented query", "ÉVACUATION", []string{"fr-evac", "en-body"}},
		{"arabic title", "إجلاء", []string{"ar-title"}},
		{"arabic body", "للمهاجرين", []string{"ar-title"}},
		{"spanish without accent", "migracion", []string{"es-other"}},
		{"every word must match", "migración informe", []string{"es-other"}},
		{"a word that is nowhere", "migración zebra", nil},
		{"tags are not words", "strong", nil},
		{"entity decoded", "équipe", []string{"fr-evac"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := slugs(search(t, db, tc.q, store.ByRank)); !slices.Equal(got, tc.want) {
				t.Fatalf("search %q = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	hits := search(t, db, "evacuation", store.ByRank)
	for _, h := range hits {
		if !strings.Contains(h.Snippet, store.SnippetStart) || !strings.Contains(h.Snippet, store.SnippetEnd) {
			t.Errorf("snippet of %s has no marked word: %q", h.Release.Slug, h.Snippet)
		}
	}
	if m := marked(hits[1].Snippet); !slices.Contains(m, "EVACUATION") {
		t.Errorf("snippet of en-body marks %v, want the word as written (EVACUATION)", m)
	}
	if got := slugs(search(t, db, "evacuation", store.ByDate)); !slices.Equal(got, []string{"en-body", "fr-evac"}) {
		t.Errorf("by date = %v, want newest first", got)
	}
}

// marked returns the words between snippet markers.
func marked(s string) []string {
	var out []string
	for {
		i := strings.Index(s, store.SnippetStart)
		if i < 0 {
			return out
		}
		s = s[i+1:]
		j := strings.Index(s, store.SnippetEnd)
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+1:]
	}
}

func TestSearchReleases_HostileInput(t *testing.T) {
	db := storetest.New(t)
	seedSearch(t, db, [][4]string{
		{"one", "en", "Near the border, aid and water", "<p>Water (and food) for 2,000 people; OR so they said.</p>"},
		{"two", "en", "Drop table releases", "<p>Robert'); DROP TABLE releases;-- was here.</p>"},
	})
	for _, q := range []string{
		`"unbalanced`, `NEAR(aid water)`, `aid*`, `-water`, `(aid OR water) AND NOT food`, `title:aid`,
		`'; DROP TABLE releases; --`, `aid ^ water`, `{title summary}: aid`, `"" ""`, `***`, `\x00`,
		strings.Repeat("évacuation ", 1000), strings.Repeat("é", 10000), strings.Repeat("a", 10000),
	} {
		if _, err := db.SearchReleases(context.Background(), store.SearchQuery{
			Filter: store.ReleaseFilter{Status: "live", LiveAt: searchNow, Limit: 20},
			Terms:  store.SearchTerms(q), Snip: true,
		}); err != nil {
			t.Errorf("search %.40q: %v", q, err)
		}
	}
	if got := slugs(search(t, db, `NEAR(aid water)`, store.ByRank)); !slices.Equal(got, []string{"one"}) {
		t.Errorf("NEAR(aid water) = %v, want the release with the words near, aid and water", got)
	}
	if got := slugs(search(t, db, `'); DROP TABLE releases;--`, store.ByRank)); !slices.Equal(got, []string{"two"}) {
		t.Errorf("SQL-looking text = %v, want the release containing those words", got)
	}
	if n, _, _, err := db.CountReleases(context.Background(), searchNow); err != nil || n != 2 {
		t.Fatalf("releases after hostile searches: %d, %v", n, err)
	}
}

func TestSearchTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`Évacuation "Port-au-Prince"`, []string{"évacuation", "port", "au", "prince"}},
		{`aid* -water NEAR(x) OR y`, []string{"aid", "water", "near", "x", "or", "y"}},
		{`l'évacuation`, []string{"l", "évacuation"}},
		{`إجلاء العائلات`, []string{"إجلاء", "العائلات"}},
		{`a a A`, []string{"a"}},
		{`*** () ""`, nil},
	} {
		if got := store.SearchTerms(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SearchTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := store.SearchTerms(strings.Repeat("word", 5000))
	if len(long) != 1 || len([]rune(long[0])) != store.MaxTermRunes {
		t.Errorf("a 20,000-character word gives %d terms of %d runes", len(long), len([]rune(long[0])))
	}
	many := store.SearchTerms(strings.Repeat("x ", 10) + fmt.Sprint(strings.Fields(strings.Repeat("w ", 40))))
	if len(many) > store.MaxSearchTerms {
		t.Errorf("%d terms kept, at most %d", len(many), store.MaxSearchTerms)
	}
	if got := store.SearchTerms(strings.Repeat("é", 400)); len(got) != 1 || !strings.HasPrefix("éé", got[0][:2]) {
		t.Errorf("a long accented run was cut badly: %q", got)
	}
}

func TestSearchText(t *testing.T) {
	got := store.SearchText("<p>One &amp; <em>two</em></p>\n<ul><li>three\x02</li></ul>")
	if want := "One & two three"; got != want {
		t.Fatalf("SearchText = %q, want %q", got, want)
	}
}

func TestSearchReleases_EditAndDeleteKeepIndex(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ids := seedSearch(t, db, [][4]string{{"edit", "en", "Flood relief", "<p>Boats arrived.</p>"}})
	r, err := db.Release(ctx, ids["edit"])
	if err != nil {
		t.Fatal(err)
	}
	r.Title, r.BodyHTML = "Drought relief", "<p>Trucks arrived.</p>"
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateRelease(ctx, &r) }); err != nil {
		t.Fatal(err)
	}
	if got := slugs(search(t, db, "flood", store.ByRank)); got != nil {
		t.Errorf("old title still found: %v", got)
	}
	if got := slugs(search(t, db, "trucks drought", store.ByRank)); !slices.Equal(got, []string{"edit"}) {
		t.Errorf("new words not found: %v", got)
	}
	if _, err := db.MarkLive(ctx, searchNow); err != nil {
		t.Fatal(err)
	}
	if got := slugs(search(t, db, "trucks", store.ByRank)); len(got) != 1 {
		t.Errorf("after going live: %v", got)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteRelease(ctx, r.ID) }); err != nil {
		t.Fatal(err)
	}
	if got := slugs(search(t, db, "trucks", store.ByRank)); got != nil {
		t.Errorf("deleted release found: %v", got)
	}
}

// TestSearchReleases_UsesTheIndex holds the plan to the full-text index:
// on SQLite the FTS5 table drives a ranked search's join (not a walk of
// every release), and a search newest first walks releases by date,
// on PostgreSQL the plan is logged (on a tiny table a sequential scan is
// rightly preferred; bench/RESULTS.md has the plan at 100,000 releases).
func TestSearchReleases_UsesTheIndex(t *testing.T) {
	db := storetest.New(t)
	seedSearch(t, db, [][4]string{{"a", "en", "Flood relief", "<p>Boats arrived.</p>"}})
	ctx := context.Background()
	for _, order := range []store.SearchOrder{store.ByRank, store.ByDate} {
		plan, err := db.ExplainSearchForTest(ctx, store.SearchQuery{
			Filter: store.ReleaseFilter{Status: "live", LiveAt: searchNow, Langs: []string{"en"}, Limit: 21},
			Terms:  []string{"flood"}, Order: order,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("plan (order %d):\n%s", order, plan)
		switch db.Engine() {
		case "sqlite":
			if order == store.ByDate {
				// Newest first: releases walked by date, the matches a set.
				if !strings.Contains(plan, "LIST SUBQUERY") || !strings.Contains(plan, "releases_fts VIRTUAL TABLE INDEX") ||
					!strings.Contains(plan, "published") {
					t.Errorf("SQLite does not walk releases by date against the set of matches:\n%s", plan)
				}
				continue
			}
			first := "" // the first table read (a window's subquery comes first)
			for _, l := range strings.Split(plan, "\n") {
				if strings.Contains(l, "SCAN") || strings.Contains(l, "SEARCH") {
					first = l
					break
				}
			}
			if !strings.Contains(first, "releases_fts VIRTUAL TABLE INDEX") {
				t.Errorf("SQLite does not start from the full-text index:\n%s", plan)
			}
			if !strings.Contains(plan, "COVERING INDEX releases_search_filter") {
				t.Errorf("SQLite does not find releases by id:\n%s", plan)
			}
		}
	}
}
