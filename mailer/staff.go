package mailer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"herald/store"
)

// Staff message kinds (SPEC 7.1), sent as X-Herald-Kind: an invitation
// to set a first password, and a password reset. They go to a staff
// member's address, never to a subscriber.
const (
	KindStaffInvite = "staff-invite"
	KindStaffReset  = "staff-reset"
)

// StaffData is the payload of a staff message.
type StaffData struct {
	Language string    `json:"language"`
	Name     string    `json:"name,omitempty"`
	Role     string    `json:"role,omitempty"`
	LinkURL  string    `json:"link_url"` // the set-password page, single use
	Expires  time.Time `json:"expires"`
}

// staffData is what staff-invite.* and staff-reset.* receive.
type staffData struct {
	Frame
	Staff StaffData
}

func isStaffKind(kind string) bool { return kind == KindStaffInvite || kind == KindStaffReset }

// StaffItem builds the outbox row of a staff message to address to; key
// makes it idempotent.
func StaffItem(kind, to, key string, d StaffData) (store.OutboxItem, error) {
	if !isStaffKind(kind) {
		return store.OutboxItem{}, fmt.Errorf("mailer: %q is not a staff kind", kind)
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("mailer: encode staff message: %w", err)
	}
	return store.OutboxItem{IdemKey: key, Kind: kind, ToAddr: to, Payload: string(payload), ExpiresAt: d.Expires}, nil
}

// Staff renders a staff message.
func (t *Templates) Staff(kind string, d StaffData) (Content, error) {
	if !isStaffKind(kind) {
		return Content{}, fmt.Errorf("mailer: %q is not a staff kind", kind)
	}
	lang, set := t.lang(d.Language)
	sd := staffData{Frame: t.frame(lang, ""), Staff: d}
	subj, err := set.subject(kind, sd)
	if err != nil {
		return Content{}, err
	}
	sd.Title = subj
	h, x, err := set.execute(kind, sd, true)
	if err != nil {
		return Content{}, err
	}
	return Content{Subject: subj, HTML: h, Text: x}, nil
}

// staffComposer renders staff rows from their StaffData payload.
type staffComposer struct{ t *Templates }

func (c staffComposer) Compose(_ context.Context, m store.OutboxMessage) (Content, error) {
	var d StaffData
	if err := json.Unmarshal([]byte(m.Payload), &d); err != nil {
		return Content{}, fmt.Errorf("%w: bad %s payload: %v", ErrSkip, m.Kind, err)
	}
	return c.t.Staff(m.Kind, d)
}
