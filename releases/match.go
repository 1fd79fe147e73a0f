package releases

// Prefs are the preferences that decide which releases reach a subscriber or
// a feed: empty Topics means every topic, empty Regions every region.
type Prefs struct {
	Topics  []string
	Regions []string
}

// Matches is herald's one matching rule (SPEC 2, Matching): a release
// matches when (prefs topics are empty OR they share a topic) AND (the
// release has no region OR prefs regions are empty OR some release region
// equals, or descends from, a prefs region). Language is decided separately,
// per translation group (see PickTranslation).
func (t *Taxonomy) Matches(p Prefs, topics, regions []string) bool {
	return t.matchTopics(p.Topics, topics) && t.matchRegions(p.Regions, regions)
}

func (t *Taxonomy) matchTopics(want, have []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}

func (t *Taxonomy) matchRegions(want, have []string) bool {
	if len(have) == 0 || len(want) == 0 {
		return true
	}
	for _, h := range have {
		for _, w := range want {
			if t.Within(h, w) {
				return true
			}
		}
	}
	return false
}

// Candidate is what PickTranslation needs to know of a release.
type Candidate struct {
	Language    string
	PublishedAt int64 // Unix ms; ties broken by ID
	ID          int64
}

// PickTranslation chooses, among the members of one translation group, the
// one a subscriber reading lang receives: the one in their language if it
// exists (the earliest if several), else the earliest published. It returns
// the index into group, or -1 for an empty group.
func PickTranslation(group []Candidate, lang string) int {
	best, bestLang := -1, -1
	for i, c := range group {
		if best < 0 || earlier(c, group[best]) {
			best = i
		}
		if c.Language == lang && (bestLang < 0 || earlier(c, group[bestLang])) {
			bestLang = i
		}
	}
	if bestLang >= 0 {
		return bestLang
	}
	return best
}

func earlier(a, b Candidate) bool {
	if a.PublishedAt != b.PublishedAt {
		return a.PublishedAt < b.PublishedAt
	}
	return a.ID < b.ID
}
