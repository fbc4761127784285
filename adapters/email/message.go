package email

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"activation-bot/bot"
)

// maxHeaderLine is where header values are folded (RFC 5322 asks for at
// most 78 characters a line).
const maxHeaderLine = 78

// message is a composed mail: its Message-ID and its bytes, CRLF ends.
type message struct {
	id   string
	data []byte
}

// compose writes the ticket's mail. Everything in it is deterministic for
// a row except Date when the row has no creation time, so a repeat is the
// same mail.
func (s *Sender) compose(d bot.Delivery) message {
	id := fmt.Sprintf("<ticket-%d-%d@%s>", d.Ticket.ID, d.ID, s.domain)
	date := d.Created
	if date.IsZero() {
		date = s.now()
	}
	subject := d.Ticket.Subject
	if strings.TrimSpace(subject) == "" {
		subject = fmt.Sprintf("Ticket #%d", d.Ticket.ID)
	}
	var b bytes.Buffer
	writeHeader(&b, "From", s.from.String())
	writeHeader(&b, "To", joinAddresses(s.to))
	// Sanitised before encoding, so the encoded words hold no line breaks.
	writeHeader(&b, "Subject", mime.QEncoding.Encode("utf-8", sanitize(subject)))
	writeHeader(&b, "Date", date.Format(time.RFC1123Z))
	writeHeader(&b, "Message-ID", id)
	// RFC 3834: no vacation replies or other auto-answers to this mail.
	writeHeader(&b, "Auto-Submitted", "auto-generated")
	writeHeader(&b, "MIME-Version", "1.0")
	writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
	writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	writeBody(&b, d.Message.Text)
	return message{id: id, data: b.Bytes()}
}

func joinAddresses(list []*mail.Address) string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.String()
	}
	return strings.Join(out, ", ")
}

// sanitize turns control characters into spaces: a CR or LF in a header
// value would start a header of the sender's choosing.
func sanitize(v string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, v)
}

// writeHeader writes one header, sanitised and folded at spaces. Folding
// only puts a CRLF before an existing space, so unfolding restores the value.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	n := len(name) + 1
	for i, word := range strings.Split(sanitize(value), " ") {
		if i == 0 || word == "" || n+1+len(word) <= maxHeaderLine {
			b.WriteString(" ")
			n++
		} else {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteString(word)
		n += len(word)
	}
	b.WriteString("\r\n")
}

// writeBody writes text as quoted-printable with CRLF line ends: the mail
// stays 7-bit and within line limits whatever the student typed.
func writeBody(b *bytes.Buffer, text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	qp := quotedprintable.NewWriter(b)
	// Writes to a bytes.Buffer do not fail.
	_, _ = qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	_ = qp.Close()
	if !strings.HasSuffix(text, "\n") {
		// SMTP ends the last line with a CRLF the text does not have; as a
		// soft line break it decodes to nothing.
		b.WriteString("=\r\n")
	}
}
