package releases

import (
	"strconv"

	"herald/store"
)

// GroupKey names a release's translation group (SPEC 2, Languages):
// releases sharing a translation_key form one group; a release without one
// is a group of its own. The key is part of outbox idempotency keys (one
// alert per subscriber per group), so its encoding never changes.
func GroupKey(r *store.Release) string {
	if r.TranslationKey != "" {
		return "t:" + r.TranslationKey
	}
	return "r:" + strconv.FormatInt(r.ID, 10)
}

// FilterGroup narrows f to the members of r's translation group.
func FilterGroup(f *store.ReleaseFilter, r *store.Release) {
	if r.TranslationKey != "" {
		f.TranslationKeys = append(f.TranslationKeys, r.TranslationKey)
		return
	}
	f.SoloIDs = append(f.SoloIDs, r.ID)
}
