package dispatch

import (
	"context"

	"herald/mailer"
	"herald/store"
)

// Preview renders the alert of a release that may not be saved yet (the
// admin console's preview), in the release's own language, through the
// same path as a queued alert, bypassing the cache. Its personal links are
// those of a test copy (the subscribe page).
func (c *Composer) Preview(ctx context.Context, r store.Release) (mailer.Content, error) {
	part, err := c.render(ctx, &r, r.Language, false)
	if err != nil {
		return mailer.Content{}, err
	}
	unsub, prefs := c.personal(store.OutboxMessage{})
	return c.tpl.Alert(mailer.AlertView{Lang: r.Language, Release: part, UnsubscribeURL: unsub, PreferencesURL: prefs})
}
