// Package mailer owns outgoing mail (SPEC 5): building messages, the
// durable outbox workers, the global send rate, retries and bounces, and the
// SMTP and Maildir transports. It imports store, templates and go-mail; the
// content of alert and digest messages comes from Composers registered by
// the dispatcher.
package mailer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"herald/store"
)

// Message kinds, sent as X-Herald-Kind (SPEC 5.1).
const (
	KindConfirm = "confirm"
	KindManage  = "manage"
	KindAlert   = "alert"
	KindDigest  = "digest"
)

// Content is what a Composer makes of a queued row: everything of a message
// that is not the envelope. The mailer adds From, To, Date, Message-ID,
// X-Herald-Kind and, when UnsubscribeURL is set, List-Id, List-Unsubscribe
// and List-Unsubscribe-Post (RFC 8058).
type Content struct {
	Subject        string
	Text           string
	HTML           string
	UnsubscribeURL string // alerts and digests
}

// Composer renders the content of one queued message. It returns ErrSkip
// when the message must not be sent any more (its release was deleted, say);
// the row is then marked cancelled.
type Composer interface {
	Compose(ctx context.Context, m store.OutboxMessage) (Content, error)
}

// ErrSkip tells the mailer to drop a queued message without sending it.
var ErrSkip = errors.New("mailer: nothing to send")

// NoticeData is the payload of a confirm or manage message: the subscriber
// flows store it with the queued row (in the same transaction as the change
// that causes it) and the mailer renders it when sending.
type NoticeData struct {
	Language       string   `json:"language"`
	ConfirmURL     string   `json:"confirm_url,omitempty"`     // confirm: the page with the confirm button
	PreferencesURL string   `json:"preferences_url,omitempty"` // manage (and confirm, for after)
	UnsubscribeURL string   `json:"unsubscribe_url,omitempty"`
	Topics         []string `json:"topics,omitempty"` // human-readable names
	Regions        []string `json:"regions,omitempty"`
	Cadence        string   `json:"cadence,omitempty"`
}

// NoticeItem builds the outbox row of a confirm or manage message to a
// subscriber; key makes it idempotent (e.g. "confirm:<id>:<seq>").
func NoticeItem(kind string, subscriberID int64, key string, d NoticeData) (store.OutboxItem, error) {
	if kind != KindConfirm && kind != KindManage {
		return store.OutboxItem{}, fmt.Errorf("mailer: %q is not a notice kind", kind)
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("mailer: encode notice: %w", err)
	}
	return store.OutboxItem{IdemKey: key, Kind: kind, SubscriberID: subscriberID, Payload: string(payload)}, nil
}
