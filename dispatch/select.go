package dispatch

import (
	"sort"
	"time"

	"herald/releases"
	"herald/store"
)

// group is one translation group: every live member, whatever its language.
type group struct {
	key     string
	members []*store.Release
}

// releaseSet is the releases one fan-out chooses from, by translation group.
type releaseSet struct {
	tax    *releases.Taxonomy
	groups []group
}

func newReleaseSet(tax *releases.Taxonomy, rs []store.Release) *releaseSet {
	idx := map[string]int{}
	set := &releaseSet{tax: tax}
	for i := range rs {
		r := &rs[i]
		k := releases.GroupKey(r)
		j, ok := idx[k]
		if !ok {
			j = len(set.groups)
			idx[k] = j
			set.groups = append(set.groups, group{key: k})
		}
		set.groups[j].members = append(set.groups[j].members, r)
	}
	return set
}

// pick returns the member of g that a subscriber receives (SPEC 2,
// Languages): among the members that match their preferences, the one in
// their language, else the earliest published; nil when none matches.
func (set *releaseSet) pick(g group, a *store.Audience) *store.Release {
	prefs := releases.Prefs{Topics: a.Topics, Regions: a.Regions}
	var match []*store.Release
	var cands []releases.Candidate
	for _, r := range g.members {
		if set.tax.Matches(prefs, r.Topics, r.Regions) {
			match = append(match, r)
			cands = append(cands, releases.Candidate{Language: r.Language, PublishedAt: r.PublishedAt.UnixMilli(), ID: r.ID})
		}
	}
	if i := releases.PickTranslation(cands, a.Language); i >= 0 {
		return match[i]
	}
	return nil
}

// digestFor returns the releases of a subscriber's digest, newest first:
// for each group, the member they receive, when it was published in
// (since, until].
func (set *releaseSet) digestFor(a *store.Audience, since, until time.Time) []*store.Release {
	var out []*store.Release
	for _, g := range set.groups {
		r := set.pick(g, a)
		if r != nil && r.PublishedAt.After(since) && !r.PublishedAt.After(until) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].PublishedAt.Equal(out[j].PublishedAt) {
			return out[i].PublishedAt.After(out[j].PublishedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}
