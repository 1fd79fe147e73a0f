package mailer

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// scripted is a hand-driven SMTP server for one connection: the test reads
// the client's lines and writes replies itself, so it can tell whether the
// client waited for a reply before sending its next command.
type scripted struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// startScripted listens on 127.0.0.1:0, greets the first client, answers
// its EHLO with the given extensions, and hands the connection to script,
// which runs in its own goroutine; the returned channel is closed when it
// returns. It returns the transport's options for the server.
func startScripted(t *testing.T, exts []string, script func(s *scripted)) (SMTPOptions, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		s := &scripted{t: t, conn: conn, r: bufio.NewReader(conn)}
		s.reply("220 scripted ESMTP")
		if l := s.line(); !strings.HasPrefix(l, "EHLO ") {
			t.Errorf("first command %q, want EHLO", l)
			return
		}
		ehlo := "250-scripted\r\n"
		for _, e := range exts {
			ehlo += "250-" + e + "\r\n"
		}
		s.reply(ehlo + "250 HELP")
		script(s)
	}()
	addr := ln.Addr().(*net.TCPAddr)
	return SMTPOptions{Host: "127.0.0.1", Port: addr.Port, TLS: "none"}, done
}

// line reads one command line, without its CRLF.
func (s *scripted) line() string {
	l, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Errorf("scripted server: read: %v", err)
		return ""
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (s *scripted) reply(r string) {
	if _, err := s.conn.Write([]byte(r + "\r\n")); err != nil {
		s.t.Errorf("scripted server: write: %v", err)
	}
}

// quiet reports whether the client sends nothing more for a moment: it is
// waiting for a reply.
func (s *scripted) quiet() bool {
	if s.r.Buffered() > 0 {
		return false
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := s.r.Peek(1)
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// data reads the DATA stage up to and including the final dot line.
func (s *scripted) data() string {
	var b strings.Builder
	for {
		l := s.line()
		if l == "" && s.t.Failed() {
			return b.String()
		}
		b.WriteString(l + "\r\n")
		if l == "." {
			return b.String()
		}
	}
}

// openSession connects the transport to the scripted server.
func openScripted(t *testing.T, o SMTPOptions) session {
	t.Helper()
	tr, err := newSMTPTransport(o, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := tr.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func testWire(t *testing.T, to string) *wireMsg {
	t.Helper()
	w := &wireMsg{}
	err := w.encode(Content{Subject: "S", Text: "hello\n.dot line\n", HTML: "<p>hello</p>"},
		envelope{From: &mail.Address{Name: "Press", Address: "press@example.org"}, To: to, Kind: KindConfirm,
			Date: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), MsgID: "1.x@example.org", EightBit: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestTransact_PipelinesWhenOffered(t *testing.T) {
	w := testWire(t, "reader@example.net")
	var got string
	o, done := startScripted(t, []string{"PIPELINING", "8BITMIME"}, func(s *scripted) {
		// All three commands arrive before the server says anything.
		cmds := []string{s.line(), s.line(), s.line()}
		want := []string{"MAIL FROM:<press@example.org> BODY=8BITMIME", "RCPT TO:<reader@example.net>", "DATA"}
		if strings.Join(cmds, "|") != strings.Join(want, "|") {
			t.Errorf("commands %q, want %q", cmds, want)
		}
		s.reply("250 ok\r\n250 ok\r\n354 go on")
		got = s.data()
		s.reply("250 queued")
	})
	sess := openScripted(t, o)
	if err := sess.send(w); err != nil {
		t.Fatalf("send: %v", err)
	}
	<-done
	if got != string(w.data) {
		t.Errorf("the server got %q, want the dot-stuffed message %q", got, w.data)
	}
	if !strings.Contains(got, "\r\n..dot line\r\n") {
		t.Errorf("a line starting with a dot was not stuffed: %q", got)
	}
}

func TestTransact_OneByOneWithoutPipelining(t *testing.T) {
	w := testWire(t, "reader@example.net")
	o, done := startScripted(t, []string{"8BITMIME"}, func(s *scripted) {
		for _, c := range []struct{ cmd, reply string }{
			{"MAIL FROM:", "250 ok"}, {"RCPT TO:", "250 ok"}, {"DATA", "354 go on"},
		} {
			if l := s.line(); !strings.HasPrefix(l, c.cmd) {
				t.Errorf("command %q, want %s", l, c.cmd)
			}
			if !s.quiet() {
				t.Errorf("the client sent more after %s without waiting for the reply", c.cmd)
			}
			s.reply(c.reply)
		}
		s.data()
		s.reply("250 queued")
	})
	sess := openScripted(t, o)
	if err := sess.send(w); err != nil {
		t.Fatalf("send: %v", err)
	}
	<-done
}

func TestTransact_PipelinedRefusals(t *testing.T) {
	o, done := startScripted(t, []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"}, func(s *scripted) {
		// 1: the recipient is refused, but this server takes DATA anyway.
		s.line()
		s.line()
		s.line()
		s.reply("250 ok\r\n550 5.1.1 no such user\r\n354 go on")
		if l := s.line(); l != "." {
			t.Errorf("after a refused RCPT and an accepted DATA, got %q, want an empty message (.)", l)
		}
		s.reply("554 no valid recipients")
		if l := s.line(); l != "RSET" {
			t.Errorf("got %q, want RSET", l)
		}
		s.reply("250 ok")
		// 2: the sender is deferred.
		s.line()
		s.line()
		s.line()
		s.reply("451 4.3.0 try later\r\n503 5.5.1 no sender\r\n503 5.5.1 no sender")
		if l := s.line(); l != "RSET" {
			t.Errorf("got %q, want RSET", l)
		}
		s.reply("250 ok")
		// 3: the message is refused for an addressing reason at the end.
		s.line()
		s.line()
		s.line()
		s.reply("250 ok\r\n250 ok\r\n354 go on")
		s.data()
		s.reply("550 5.1.1 mailbox unavailable")
		// 4: accepted, on the same connection.
		s.line()
		s.line()
		s.line()
		s.reply("250 ok\r\n250 ok\r\n354 go on")
		s.data()
		s.reply("250 queued")
	})
	sess := openScripted(t, o)
	var se *sendErr
	if err := sess.send(testWire(t, "gone@example.net")); !errors.As(err, &se) || !se.bounce || se.temp || se.broken || se.code != 550 {
		t.Errorf("refused recipient: %#v, want a bounce (550) keeping the connection", err)
	}
	if err := sess.send(testWire(t, "a@example.net")); !errors.As(err, &se) || !se.temp || se.bounce || se.broken || se.code != 451 {
		t.Errorf("deferred sender: %#v, want temporary (451)", err)
	}
	if err := sess.send(testWire(t, "b@example.net")); !errors.As(err, &se) || !se.bounce || se.temp || se.broken {
		t.Errorf("5.1.1 after the data: %#v, want a bounce", err)
	}
	if err := sess.send(testWire(t, "c@example.net")); err != nil {
		t.Errorf("fourth message: %v", err)
	}
	<-done
}

func TestTransact_DroppedBeforeData(t *testing.T) {
	o, done := startScripted(t, []string{"PIPELINING"}, func(s *scripted) {
		s.line()
		s.conn.Close() // gone after MAIL
	})
	sess := openScripted(t, o)
	w := testWire(t, "reader@example.net")
	w.eightBit = false
	var se *sendErr
	if err := sess.send(w); !errors.As(err, &se) || !se.temp || !se.broken || !se.early {
		t.Errorf("dropped before the data: %#v, want temporary, broken, early (retry on a new connection)", err)
	}
	<-done
}

func TestTransact_EightBitNeedsServer(t *testing.T) {
	o, done := startScripted(t, []string{"PIPELINING"}, func(s *scripted) {
		if l := s.line(); l != "QUIT" {
			t.Errorf("got %q: nothing of an 8bit message may go to a server without 8BITMIME", l)
		}
		s.reply("221 bye")
	})
	sess := openScripted(t, o)
	var se *sendErr
	if err := sess.send(testWire(t, "reader@example.net")); !errors.As(err, &se) || se.temp {
		t.Errorf("8bit message without 8BITMIME: %#v, want a permanent failure", err)
	}
	sess.close()
	<-done
}

func TestTransact_RefusalWithoutPipeliningKeepsConnection(t *testing.T) {
	o, done := startScripted(t, []string{"8BITMIME", "ENHANCEDSTATUSCODES"}, func(s *scripted) {
		s.line()
		s.reply("250 ok")
		s.line()
		s.reply("550 5.1.1 no such user")
		if l := s.line(); l != "RSET" {
			t.Errorf("after a refused RCPT, got %q, want RSET (and no DATA)", l)
		}
		s.reply("250 ok")
		for _, r := range []string{"250 ok", "250 ok", "354 go on"} {
			s.line()
			s.reply(r)
		}
		s.data()
		s.reply("250 queued")
	})
	sess := openScripted(t, o)
	var se *sendErr
	if err := sess.send(testWire(t, "gone@example.net")); !errors.As(err, &se) || !se.bounce || se.broken {
		t.Errorf("refused recipient: %#v, want a bounce keeping the connection", err)
	}
	if err := sess.send(testWire(t, "next@example.net")); err != nil {
		t.Errorf("next message on the same connection: %v", err)
	}
	<-done
}
