package subscribers

import (
	"context"
	"encoding/json"
	"time"

	"herald/store"
)

// DataExport is what "Download my data" gives a subscriber (SPEC 11): their
// record, their consent record, and every message sent to them.
type DataExport struct {
	Subscriber ExportedSubscriber `json:"subscriber"`
	Consent    ExportedConsent    `json:"consent"`
	Messages   []ExportedMessage  `json:"messages"`
}

// ExportedSubscriber is the subscriber record in a DataExport.
type ExportedSubscriber struct {
	ID             int64      `json:"id"`
	Email          string     `json:"email"`
	Status         string     `json:"status"`
	Topics         []string   `json:"topics"`
	Regions        []string   `json:"regions"`
	Language       string     `json:"language"`
	Cadence        string     `json:"cadence"`
	Timezone       string     `json:"timezone"`
	CreatedAt      time.Time  `json:"created_at"`
	ConfirmedAt    *time.Time `json:"confirmed_at"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
	BouncedAt      *time.Time `json:"bounced_at"`
}

// ExportedConsent is the consent record: when, from which IP and page,
// and the preferences consented to.
type ExportedConsent struct {
	At    *time.Time      `json:"at"`
	IP    string          `json:"ip"`
	Page  string          `json:"page"`
	Prefs json.RawMessage `json:"preferences"`
}

// ExportedMessage is one message sent to the subscriber.
type ExportedMessage struct {
	Date    time.Time `json:"date"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ExportData returns the data of the subscriber a preferences token names
// ("Download my data"). Nothing changes.
func (s *Service) ExportData(ctx context.Context, token string) (DataExport, error) {
	sub, err := s.ByToken(ctx, PurposePreferences, token)
	if err != nil {
		return DataExport{}, err
	}
	mails, err := s.db.SubscriberMails(ctx, sub.ID)
	if err != nil {
		return DataExport{}, err
	}
	out := DataExport{
		Subscriber: ExportedSubscriber{ID: sub.ID, Email: sub.Email, Status: sub.Status, Topics: sub.Topics, Regions: sub.Regions,
			Language: sub.Language, Cadence: sub.Cadence, Timezone: sub.Timezone, CreatedAt: sub.CreatedAt.UTC(),
			ConfirmedAt: optTime(sub.ConfirmedAt), UnsubscribedAt: optTime(sub.UnsubscribedAt), BouncedAt: optTime(sub.BouncedAt)},
		Consent:  ExportedConsent{At: optTime(sub.ConsentAt), IP: sub.ConsentIP, Page: sub.ConsentPage, Prefs: json.RawMessage("null")},
		Messages: []ExportedMessage{},
	}
	if json.Valid([]byte(sub.ConsentPrefs)) {
		out.Consent.Prefs = json.RawMessage(sub.ConsentPrefs)
	}
	for _, m := range mails {
		if m.State == store.OutboxSent {
			out.Messages = append(out.Messages, ExportedMessage{Date: m.SentAt.UTC(), Kind: m.Kind, Subject: m.Subject})
		}
	}
	return out, nil
}

// EraseByToken is "Delete me" on the preferences page: the same erasure as
// staff's (Erase), for the subscriber a preferences token names. Erasing
// an erased subscriber again gives ErrGone.
func (s *Service) EraseByToken(ctx context.Context, token string) error {
	id, err := s.tokens.Verify(PurposePreferences, token)
	if err != nil {
		return err
	}
	err = s.Erase(ctx, id)
	if errorsIsNotFound(err) {
		return ErrGone
	}
	return err
}
