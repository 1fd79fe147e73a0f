package hooks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/bounces"
	"herald/mailer"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	db      *store.DB
	srv     *httptest.Server
	verp    *mailer.VERP
	metrics *bounces.Metrics
	reg     *prometheus.Registry
	now     time.Time
	sns     *httptest.Server // serves the certificate and SubscribeURL
	snsKey  *rsa.PrivateKey
	confirm atomic.Int32
	sgKey   *ecdsa.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: testSecret, BaseURL: "https://press.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, verp: mailer.NewVERP("bounces@news.example.org", testSecret), now: time.Now()}
	f.reg = prometheus.NewRegistry()
	f.metrics = bounces.NewMetrics(f.reg)
	proc := bounces.NewProcessor(subs, bounces.ProcessorOptions{VERP: f.verp, SoftLimit: 5, Metrics: f.metrics})

	// The "SNS" host: a test certificate over real TLS.
	f.snsKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, &f.snsKey.PublicKey, f.snsKey)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f.sns = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			w.Write(certPEM)
		case "/confirm":
			f.confirm.Add(1)
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.sns.Close)
	snsHost := strings.TrimPrefix(f.sns.URL, "https://")

	f.sgKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sgDER, _ := x509.MarshalPKIXPublicKey(&f.sgKey.PublicKey)
	h := New(proc, Options{WebhookSecret: "pm-secret", SendGridPublicKey: base64.StdEncoding.EncodeToString(sgDER),
		MailgunSigningKey: "mg-key", VERP: f.verp, Client: f.sns.Client(), Replays: db, Now: func() time.Time { return f.now },
		AllowSNSURL: func(u *url.URL) bool { return u.Scheme == "https" && u.Host == snsHost }})
	mux := http.NewServeMux()
	h.Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// subscriber adds an active subscriber with one alert row sent to them.
func (f *fixture) subscriber(t *testing.T, email string) (int64, store.OutboxMessage) {
	t.Helper()
	ctx := context.Background()
	id := storetest.Subscriber(t, f.db, email, "active", "en")
	key := "alert:1:" + strconv.FormatInt(id, 10)
	if err := f.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, time.Now(), []store.OutboxItem{{IdemKey: key, Kind: mailer.KindAlert, SubscriberID: id, AlertID: 1, Payload: "{}"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	row, err := f.db.OutboxByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var m store.OutboxMessage
	if err := f.db.InTx(ctx, func(tx *store.Tx) error {
		m, err = tx.OutboxMessageByID(ctx, row.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id, m
}

func (f *fixture) post(t *testing.T, path string, body []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func (f *fixture) status(t *testing.T, id int64) string {
	t.Helper()
	s, err := f.db.SubscriberStatus(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) bounces(t *testing.T) []store.Bounce {
	t.Helper()
	b, err := f.db.ListBounces(context.Background(), store.BounceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refused reads herald_bounce_webhook_refused_total{provider,reason}.
func (f *fixture) refused(provider, reason string) float64 {
	fams, _ := f.reg.Gather()
	for _, fam := range fams {
		if fam.GetName() != "herald_bounce_webhook_refused_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["provider"] == provider && l["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// snsEnvelope signs an SNS message of type typ carrying msg.
func (f *fixture) snsEnvelope(t *testing.T, typ, msg, version string, tamper func(map[string]any)) []byte {
	t.Helper()
	m := &snsMessage{Type: typ, MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicArn: "arn:aws:sns:us-west-2:123456789012:ses-bounces",
		Message: msg, Timestamp: "2026-03-02T09:15:02.123Z", SignatureVersion: version,
		SigningCertURL: f.sns.URL + "/SimpleNotificationService-test.pem"}
	if typ == "SubscriptionConfirmation" {
		m.Token = "2336412f37fb687f5d51e6e241d7700ae02f7124"
		m.SubscribeURL = f.sns.URL + "/confirm?Action=ConfirmSubscription&Token=" + m.Token
	}
	text, err := m.stringToSign()
	if err != nil {
		t.Fatal(err)
	}
	var sig []byte
	if version == "1" {
		s := sha1.Sum([]byte(text))
		sig, _ = rsa.SignPKCS1v15(rand.Reader, f.snsKey, crypto.SHA1, s[:])
	} else {
		s := sha256.Sum256([]byte(text))
		sig, _ = rsa.SignPKCS1v15(rand.Reader, f.snsKey, crypto.SHA256, s[:])
	}
	// As SNS posts it (documented field names).
	out := map[string]any{"Type": m.Type, "MessageId": m.MessageId, "TopicArn": m.TopicArn, "Message": m.Message,
		"Timestamp": m.Timestamp, "SignatureVersion": m.SignatureVersion, "Signature": base64.StdEncoding.EncodeToString(sig),
		"SigningCertURL": m.SigningCertURL, "UnsubscribeURL": f.sns.URL + "/unsubscribe"}
	if typ == "SubscriptionConfirmation" {
		out["Token"], out["SubscribeURL"] = m.Token, m.SubscribeURL
	}
	if tamper != nil {
		tamper(out)
	}
	b, _ := json.Marshal(out)
	return b
}

// sesBounce is an SES bounce notification as documented (Amazon SES
// "Contents of notifications": notificationType, bounce, mail).
func sesBounce(bounceType, rcpt, source, msgID, status string) string {
	return fmt.Sprintf(`{"notificationType":"Bounce","bounce":{"feedbackId":"0100017f-bounce-%[5]s","bounceType":%[1]q,"bounceSubType":"General",
"bouncedRecipients":[{"emailAddress":%[2]q,"action":"failed","status":%[5]q,"diagnosticCode":"smtp; 550 %[5]s user unknown"}],
"timestamp":"2026-03-02T09:15:01.000Z","remoteMtaIp":"203.0.113.9","reportingMTA":"dns; a8-1.smtp-out.amazonses.com"},
"mail":{"timestamp":"2026-03-02T09:15:00.000Z","source":%[3]q,"sourceArn":"arn:aws:ses:us-west-2:123456789012:identity/news.example.org",
"sendingAccountId":"123456789012","messageId":"0100017f-ses-message","destination":[%[2]q],"headersTruncated":false,
"headers":[{"name":"Message-ID","value":%[4]q}],"commonHeaders":{"from":["press@news.example.org"],"to":[%[2]q],"messageId":%[4]q,"subject":"Migrants rescued"}}}`,
		bounceType, rcpt, source, msgID, status)
}

func sesComplaint(rcpt, source string) string {
	return fmt.Sprintf(`{"notificationType":"Complaint","complaint":{"feedbackId":"0100017f-complaint","complaintSubType":null,
"complainedRecipients":[{"emailAddress":%[1]q}],"timestamp":"2026-03-02T10:00:00.000Z","userAgent":"Yahoo!-Mail-Feedback/1.0",
"complaintFeedbackType":"abuse","arrivalDate":"2026-03-02T09:59:00.000Z"},
"mail":{"timestamp":"2026-03-02T09:15:00.000Z","source":%[2]q,"messageId":"0100017f-ses-message-2","destination":[%[1]q]}}`, rcpt, source)
}

func TestSES_SignedNotificationsAndConfirmation(t *testing.T) {
	f := newFixture(t)
	ana, anaMsg := f.subscriber(t, "ana@example.net")
	ben, benMsg := f.subscriber(t, "ben@example.net")

	// Version 1 (SHA1): a permanent bounce naming the VERP sender.
	body := f.snsEnvelope(t, "Notification", sesBounce("Permanent", "ana@example.net", f.verp.Address(anaMsg.ID),
		"<"+mailer.MessageID(anaMsg, "news.example.org")+">", "5.1.1"), "1", nil)
	if code, resp := f.post(t, "/webhooks/ses", body, nil); code != 200 || !strings.Contains(resp, `"recorded":1`) {
		t.Fatalf("bounce: %d %s", code, resp)
	}
	if f.status(t, ana) != store.SubscriberBounced {
		t.Fatal("ana not bounced")
	}
	// SNS redelivers: recorded once.
	if code, resp := f.post(t, "/webhooks/ses", body, nil); code != 200 || !strings.Contains(resp, `"recorded":0`) {
		t.Fatalf("redelivery: %d %s", code, resp)
	}
	// Version 2 (SHA256): a complaint.
	body = f.snsEnvelope(t, "Notification", sesComplaint("ben@example.net", f.verp.Address(benMsg.ID)), "2", nil)
	if code, _ := f.post(t, "/webhooks/ses", body, nil); code != 200 || f.status(t, ben) != store.SubscriberUnsubscribed {
		t.Fatalf("complaint: %d, ben %s", code, f.status(t, ben))
	}
	if n := len(f.bounces(t)); n != 2 {
		t.Fatalf("%d bounces", n)
	}

	// Refused: a message changed after signing, a certificate from another
	// host, an unknown signature version, garbage. Nothing changes.
	cy, cyMsg := f.subscriber(t, "cy@example.net")
	good := sesBounce("Permanent", "cy@example.net", f.verp.Address(cyMsg.ID), "", "5.1.1")
	for name, tamper := range map[string]func(map[string]any){
		"tampered":  func(m map[string]any) { m["Message"] = strings.Replace(good, "cy@", "dan@", -1) },
		"cert host": func(m map[string]any) { m["SigningCertURL"] = "https://sns.us-west-2.amazonaws.com.evil.example/x.pem" },
		"version":   func(m map[string]any) { m["SignatureVersion"] = "3" },
		"signature": func(m map[string]any) { m["Signature"] = "" },
	} {
		if code, _ := f.post(t, "/webhooks/ses", f.snsEnvelope(t, "Notification", good, "2", tamper), nil); code != 401 {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if code, _ := f.post(t, "/webhooks/ses", []byte("{nope"), nil); code != 400 {
		t.Errorf("garbage: %d", code)
	}
	if f.status(t, cy) != store.SubscriberActive || len(f.bounces(t)) != 2 {
		t.Fatal("a refused request changed something")
	}
	if f.refused("ses", "bad_signature") != 3 || f.refused("ses", "bad_certificate_url") != 1 {
		t.Fatalf("refusals counted: sig %v, cert %v", f.refused("ses", "bad_signature"), f.refused("ses", "bad_certificate_url"))
	}

	// A subscription confirmation is confirmed by GET of SubscribeURL.
	body = f.snsEnvelope(t, "SubscriptionConfirmation", "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:ses-bounces.", "2", nil)
	if code, _ := f.post(t, "/webhooks/ses", body, nil); code != 200 || f.confirm.Load() != 1 {
		t.Fatalf("confirmation: %d, confirmed %d", code, f.confirm.Load())
	}
	// A forged one (signed, but with a SubscribeURL elsewhere) is not.
	body = f.snsEnvelope(t, "SubscriptionConfirmation", "x", "2", nil)
	var m map[string]any
	json.Unmarshal(body, &m)
	m["SubscribeURL"] = "https://evil.example/confirm"
	body, _ = json.Marshal(m)
	if code, _ := f.post(t, "/webhooks/ses", body, nil); code != 401 || f.confirm.Load() != 1 {
		t.Fatalf("tampered SubscribeURL: %d", code)
	}
}

func TestSNSURLAllowed_ProductionRule(t *testing.T) {
	for _, ok := range []string{"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
		"https://sns.us-gov-west-1.amazonaws.com/x.pem"} {
		u, _ := url.Parse(ok)
		if !SNSURLAllowed(u) {
			t.Errorf("%s refused", ok)
		}
	}
	for _, bad := range []string{"http://sns.us-east-1.amazonaws.com/x.pem", "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
		"https://evil.com/sns.us-east-1.amazonaws.com/x.pem", "https://user@sns.us-east-1.amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com:8443/x.pem", "https://xsns.us-east-1.amazonaws.com/x.pem", "https://sns..amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com@evil.com/x.pem", "https://evil.com#sns.us-east-1.amazonaws.com", "https://sqs.us-east-1.amazonaws.com/x.pem",
		"https://sns.amazonaws.com/x.pem", "https://SNS.US-EAST-1.AMAZONAWS.COM.evil/x.pem", "file:///etc/passwd", "https://127.0.0.1/x.pem"} {
		u, err := url.Parse(bad)
		if err == nil && SNSURLAllowed(u) {
			t.Errorf("%s allowed", bad)
		}
	}
}

func TestPostmark_BasicAuth(t *testing.T) {
	f := newFixture(t)
	ana, _ := f.subscriber(t, "ana@example.net")
	// As Postmark documents its bounce webhook.
	body := []byte(`{"RecordType":"Bounce","MessageStream":"outbound","ID":4323372036854775807,"Type":"HardBounce","TypeCode":1,
"Name":"Hard bounce","Tag":"alert","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{},"ServerID":23,
"Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).","Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.",
"Email":"ana@example.net","From":"press@news.example.org","BouncedAt":"2026-03-02T09:33:54.9070259Z","DumpAvailable":true,
"Inactive":true,"CanActivate":true,"Subject":"Migrants rescued","Content":""}`)
	auth := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	for _, hdr := range []map[string]string{nil, auth("postmark", "wrong"), {"Authorization": "Bearer pm-secret"}} {
		if code, _ := f.post(t, "/webhooks/postmark", body, hdr); code != 401 {
			t.Fatalf("%v: %d, want 401", hdr, code)
		}
	}
	if f.status(t, ana) != store.SubscriberActive {
		t.Fatal("refused request changed the subscriber")
	}
	if code, resp := f.post(t, "/webhooks/postmark", body, auth("anyone", "pm-secret")); code != 200 || !strings.Contains(resp, `"recorded":1`) {
		t.Fatalf("bounce: %d %s", code, resp)
	}
	if code, resp := f.post(t, "/webhooks/postmark", body, auth("anyone", "pm-secret")); code != 200 || !strings.Contains(resp, `"recorded":0`) {
		t.Fatalf("retry: %d %s", code, resp)
	}
	b := f.bounces(t)
	if f.status(t, ana) != store.SubscriberBounced || len(b) != 1 || b[0].Source != "postmark" || !strings.Contains(b[0].Diagnostic, "5.1.1") {
		t.Fatalf("status %s, bounces %+v", f.status(t, ana), b)
	}
	// A spam complaint; an unknown address is skipped with 200.
	ben, _ := f.subscriber(t, "ben@example.net")
	spam := []byte(`{"RecordType":"SpamComplaint","MessageStream":"outbound","ID":42,"Type":"SpamComplaint","TypeCode":512,"Name":"Spam complaint",
"MessageID":"00000000-0000-0000-0000-000000000000","ServerID":23,"Description":"","Details":"Test spam complaint details",
"Email":"ben@example.net","From":"press@news.example.org","BouncedAt":"2026-03-02T10:00:00Z","Subject":"Migrants rescued"}`)
	if code, _ := f.post(t, "/webhooks/postmark", spam, auth("", "pm-secret")); code != 200 || f.status(t, ben) != store.SubscriberUnsubscribed {
		t.Fatalf("complaint: %d, %s", code, f.status(t, ben))
	}
	unknown := bytes.Replace(spam, []byte("ben@example.net"), []byte("nobody@example.net"), 1)
	if code, resp := f.post(t, "/webhooks/postmark", unknown, auth("", "pm-secret")); code != 200 || !strings.Contains(resp, `"recorded":0`) {
		t.Fatalf("unknown: %d %s", code, resp)
	}
	// Bodies are capped.
	if code, _ := f.post(t, "/webhooks/postmark", bytes.Repeat([]byte(" "), MaxBody+10), auth("", "pm-secret")); code != 413 {
		t.Fatalf("huge body: %d", code)
	}
}

func (f *fixture) sendgridHeaders(t *testing.T, ts string, body []byte) map[string]string {
	t.Helper()
	sum := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, f.sgKey, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig),
		"X-Twilio-Email-Event-Webhook-Timestamp": ts}
}

func TestSendGrid_SignedEvents(t *testing.T) {
	f := newFixture(t)
	ana, anaMsg := f.subscriber(t, "ana@example.net")
	ben, _ := f.subscriber(t, "ben@example.net")
	cy, _ := f.subscriber(t, "cy@example.net")
	// Shaped as SendGrid's Event Webhook reference documents them.
	body := []byte(fmt.Sprintf(`[
{"email":"ana@example.net","timestamp":%[1]d,"smtp-id":"<%[2]s>","event":"bounce","category":["alert"],"sg_event_id":"6g4ZI7SA-xmRDv57GoPIPw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"500 unknown recipient","status":"5.0.0","type":"bounce"},
{"email":"ben@example.net","timestamp":%[1]d,"event":"spamreport","sg_event_id":"8s3ZI7SA-xmRDv57GoPIPw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1"},
{"email":"cy@example.net","timestamp":%[1]d,"event":"bounce","sg_event_id":"9a3ZI7SA-xmRDv57GoPIPw==","reason":"421 try later","status":"4.0.0","type":"blocked"},
{"email":"cy@example.net","timestamp":%[1]d,"event":"delivered","sg_event_id":"aa3ZI7SA-xmRDv57GoPIPw==","response":"250 OK"}
]`, f.now.Unix(), mailer.MessageID(anaMsg, "news.example.org")))
	ts := strconv.FormatInt(f.now.Unix(), 10)
	hdr := f.sendgridHeaders(t, ts, body)
	// Refused: no headers, another body under the same signature, an old
	// timestamp (correctly signed).
	old := strconv.FormatInt(f.now.Add(-6*time.Minute).Unix(), 10)
	for name, c := range map[string]struct {
		body []byte
		hdr  map[string]string
	}{"none": {body, nil}, "tampered": {bytes.Replace(body, []byte("ana@"), []byte("dan@"), 1), hdr}, "old": {body, f.sendgridHeaders(t, old, body)}} {
		if code, _ := f.post(t, "/webhooks/sendgrid", c.body, c.hdr); code != 401 {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if f.status(t, ana) != store.SubscriberActive || f.refused("sendgrid", "too_old") != 1 {
		t.Fatal("refused requests changed something or were not counted")
	}
	if code, resp := f.post(t, "/webhooks/sendgrid", body, hdr); code != 200 || !strings.Contains(resp, `"recorded":3`) {
		t.Fatalf("events: %d %s", code, resp)
	}
	if f.status(t, ana) != store.SubscriberBounced || f.status(t, ben) != store.SubscriberUnsubscribed || f.status(t, cy) != store.SubscriberActive {
		t.Fatalf("statuses %s %s %s", f.status(t, ana), f.status(t, ben), f.status(t, cy))
	}
	kinds := map[string]int{}
	for _, b := range f.bounces(t) {
		kinds[b.Kind]++
	}
	if kinds["hard"] != 1 || kinds["complaint"] != 1 || kinds["soft"] != 1 {
		t.Fatalf("kinds %v", kinds)
	}
}

func mailgunBody(t *testing.T, key, ts, token, event, severity, rcpt, sender, msgID string) []byte {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + token))
	// As Mailgun documents its webhook payload: signature and event-data.
	b, _ := json.Marshal(map[string]any{
		"signature": map[string]any{"timestamp": ts, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": map[string]any{"event": event, "id": "G9Bn5sl1TC6nu79C8C0bwg-" + token[:6], "timestamp": 1521233123.501324,
			"severity": severity, "reason": "generic", "log-level": "error", "recipient": rcpt, "recipient-domain": "example.net",
			"envelope": map[string]any{"sender": sender, "transport": "smtp", "targets": rcpt},
			"message":  map[string]any{"headers": map[string]any{"message-id": msgID, "to": rcpt, "from": "press@news.example.org", "subject": "Migrants rescued"}},
			"delivery-status": map[string]any{"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist",
				"description": "", "attempt-no": 1, "session-seconds": 0.1}},
	})
	return b
}

func TestMailgun_SignedTokensOnce(t *testing.T) {
	f := newFixture(t)
	ana, anaMsg := f.subscriber(t, "ana@example.net")
	ben, _ := f.subscriber(t, "ben@example.net")
	ts := strconv.FormatInt(f.now.Unix(), 10)
	body := mailgunBody(t, "mg-key", ts, "e0b5477167110d68991efc6b9f89f0a11066af27834600e123", "failed", "permanent",
		"ana@example.net", f.verp.Address(anaMsg.ID), mailer.MessageID(anaMsg, "news.example.org"))
	for name, b := range map[string][]byte{
		"wrong key": mailgunBody(t, "other", ts, "e0b5477167110d68991efc6b9f89f0a11066af27834600e124", "failed", "permanent", "ana@example.net", "", ""),
		"old": mailgunBody(t, "mg-key", strconv.FormatInt(f.now.Add(-10*time.Minute).Unix(), 10), "e0b5477167110d68991efc6b9f89f0a11066af27834600e125",
			"failed", "permanent", "ana@example.net", "", ""),
	} {
		if code, _ := f.post(t, "/webhooks/mailgun", b, nil); code != 401 {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if code, resp := f.post(t, "/webhooks/mailgun", body, nil); code != 200 || !strings.Contains(resp, `"recorded":1`) {
		t.Fatalf("failed permanent: %d %s", code, resp)
	}
	if f.status(t, ana) != store.SubscriberBounced {
		t.Fatal("not bounced")
	}
	// The same request again: its token was used.
	if code, _ := f.post(t, "/webhooks/mailgun", body, nil); code != 401 || f.refused("mailgun", "replay") != 1 {
		t.Fatalf("replay: %d", code)
	}
	complained := mailgunBody(t, "mg-key", ts, "f1b5477167110d68991efc6b9f89f0a11066af27834600e999", "complained", "", "ben@example.net", "", "")
	if code, _ := f.post(t, "/webhooks/mailgun", complained, nil); code != 200 || f.status(t, ben) != store.SubscriberUnsubscribed {
		t.Fatalf("complained: %d %s", code, f.status(t, ben))
	}
	if b := f.bounces(t); len(b) != 2 || b[1].Source != "mailgun" || !strings.Contains(b[1].Diagnostic, "550") {
		t.Fatalf("bounces %+v", b)
	}
}
