package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/jira/wire"
	"github.com/mfatriage/triage/worker"
)

// The webhook as Jira sends it, reduced to the fields intake reads. Every
// field is optional: payloads differ between Jira Cloud, Server and Data
// Center and between their versions. The issue, comment and user shapes are
// Jira's wire types (internal/jira/wire), whose scalars accept a string, a
// number or a boolean; a field of an unexpected type is left empty rather
// than failing the delivery.
type wireEvent struct {
	WebhookEvent       wire.String    `json:"webhookEvent"`
	Timestamp          wire.Time      `json:"timestamp"`
	User               *wire.User     `json:"user"`
	Issue              *wire.Issue    `json:"issue"`
	Comment            *wire.Comment  `json:"comment"`
	Changelog          *wireChangelog `json:"changelog"`
	IssueEventTypeName wire.String    `json:"issue_event_type_name"`
}

type wireChangelog struct {
	Items []struct {
		Field   wire.String `json:"field"`
		FieldID wire.String `json:"fieldId"`
	} `json:"items"`
}

// MaxTextBytes bounds the text taken from one field (a summary, a
// description or a comment body): longer text is cut at a character
// boundary. The start of a ticket is what the classifier reads; the payload
// stays small in Redis.
const MaxTextBytes = 64 << 10

// truncate cuts s to at most limit bytes of valid UTF-8 (wire.Truncate).
func truncate(s string, limit int) string { return wire.Truncate(s, limit) }

// errMalformed marks a body that is not a JSON object.
var errMalformed = errors.New("malformed")

// parseEvent decodes a webhook body. Only a body that is not a JSON object
// fails; fields of unexpected types are left empty.
func parseEvent(body []byte) (*wireEvent, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", errMalformed)
	}
	var ev wireEvent
	err := json.Unmarshal(trimmed, &ev)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("%w: invalid JSON at byte %d: %s", errMalformed, syn.Offset, oneLine(syn.Error()))
		}
		return nil, fmt.Errorf("%w: invalid JSON: %s", errMalformed, oneLine(err.Error()))
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: the body is JSON but not an object", errMalformed)
	}
	return &ev, nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 200)
}

// user is an account as the payload names it.
type user struct {
	accountID, name, key, displayName string
}

// userOf is the account a payload's user object names.
func userOf(u *wire.User) user {
	if u == nil {
		return user{}
	}
	return user{u.AccountID.String(), u.Name.String(), u.Key.String(), u.DisplayName.String()}
}

// id is the account's identity in the task payload: the Cloud account id,
// else the Data Center user name, else its user key.
func (u user) id() string {
	switch {
	case u.accountID != "":
		return u.accountID
	case u.name != "":
		return u.name
	}
	return u.key
}

func (u user) known() bool { return u.id() != "" }

// is reports whether u is the account named by id: its account id (exact)
// or its Data Center user name or key (ignoring case).
func (u user) is(id string) bool {
	if id == "" {
		return false
	}
	return u.accountID == id || (u.name != "" && strings.EqualFold(u.name, id)) || (u.key != "" && strings.EqualFold(u.key, id))
}

// same reports whether a and b are one account, comparing an identity both
// carry (account id, else user name, else user key); ok is false when they
// share none, so the question cannot be decided from the payload.
func same(a, b user) (same, ok bool) {
	switch {
	case a.accountID != "" && b.accountID != "":
		return triage.SameAccount(a.accountID, b.accountID), true
	case a.name != "" && b.name != "":
		return triage.SameAccount(a.name, b.name), true
	case a.key != "" && b.key != "":
		return triage.SameAccount(a.key, b.key), true
	}
	return false, false
}

// issueKeyRE matches an issue key ("HD-12") or a numeric issue id.
var issueKeyRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9_]{0,254}-[0-9]{1,18}|[0-9]{1,18})$`)

// issueRef finds the issue an event is about. The key comes from
// issue.key; when the payload has none (Jira Server/Data Center
// comment_created carries no issue object) it is the id-or-key segment of
// comment.self (…/rest/api/2/issue/10001/comment/10100), else of
// issue.self. That segment is usually the numeric issue id: the worker's
// Jira read accepts an id where it expects a key. id is issue.id, else the
// segment when it is numeric.
func issueRef(ev *wireEvent) (key, id string, err error) {
	var seg string
	if ev.Issue != nil {
		key, id = ev.Issue.Key.String(), ev.Issue.ID.String()
		seg = issueSegment(ev.Issue.Self.String())
	}
	if ev.Comment != nil {
		if s := issueSegment(ev.Comment.Self.String()); s != "" {
			seg = s
		}
	}
	if key == "" {
		key = seg
	}
	if id == "" && seg != "" && strings.Trim(seg, "0123456789") == "" {
		id = seg
	}
	if key == "" {
		return "", "", errors.New("the event names no issue (no issue.key, no issue id in comment.self)")
	}
	if !issueKeyRE.MatchString(key) {
		return "", "", fmt.Errorf("the issue key %q is neither a Jira key like HD-12 nor an issue id", truncate(key, 64))
	}
	if id != "" && !issueKeyRE.MatchString(id) {
		id = ""
	}
	return key, id, nil
}

// issueSegment returns the segment after "issue" in a REST self link.
func issueSegment(self string) string {
	if self == "" {
		return ""
	}
	u, err := url.Parse(self)
	if err != nil {
		return ""
	}
	segs := strings.Split(u.Path, "/")
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "issue" && i > 0 && segs[i+1] != "" {
			return segs[i+1]
		}
	}
	return ""
}

// reporter returns the reporter named in the payload, if any.
func (ev *wireEvent) reporter() user {
	if ev.Issue == nil {
		return user{}
	}
	return userOf(ev.Issue.Fields.Reporter)
}

// actor is the account that caused the event: the comment's author for a
// comment event (the delivering user when the author is missing), the
// delivering user otherwise.
func (ev *wireEvent) actor() user {
	if ev.Comment != nil {
		if a := userOf(ev.Comment.Author); a.known() {
			return a
		}
	}
	return userOf(ev.User)
}

// fromBot reports whether the bot caused the event: the comment's author
// or the delivering user is the bot.
func (ev *wireEvent) fromBot(botID string) bool {
	if ev.Comment != nil && userOf(ev.Comment.Author).is(botID) {
		return true
	}
	return userOf(ev.User).is(botID)
}

// touchesText reports whether an issue_updated event may have changed what
// the classifier reads: its changelog names summary or description, or it
// has no changelog at all.
func (ev *wireEvent) touchesText() bool {
	if ev.Changelog == nil {
		return true
	}
	for _, it := range ev.Changelog.Items {
		for _, f := range []wire.String{it.Field, it.FieldID} {
			switch strings.ToLower(f.String()) {
			case "summary", "description":
				return true
			}
		}
	}
	return false
}

// commentUpdate reports whether an issue_updated event only mirrors a
// comment (Jira Server sends one beside comment_created).
func (ev *wireEvent) commentUpdate() bool {
	switch ev.IssueEventTypeName.String() {
	case "issue_commented", "issue_comment_edited", "issue_comment_deleted":
		return true
	}
	return false
}

// payload builds the task payload from a parsed event.
func (ev *wireEvent) payload(deliveryID string, now time.Time) (worker.TriagePayload, error) {
	key, id, err := issueRef(ev)
	if err != nil {
		return worker.TriagePayload{}, err
	}
	p := worker.TriagePayload{
		Event:      ev.WebhookEvent.String(),
		DeliveryID: deliveryID,
		ReceivedAt: now,
		ActorID:    ev.actor().id(),
		Issue:      triage.Issue{Key: key, ID: id},
	}
	if ev.Issue != nil {
		f := ev.Issue.Fields
		rep := userOf(f.Reporter)
		p.Issue.Summary = truncate(f.Summary.String(), MaxTextBytes)
		p.Issue.Description = wire.Text(f.Description, MaxTextBytes)
		p.Issue.ReporterID = rep.id()
		p.Issue.ReporterName = rep.displayName
		if f.Reporter != nil {
			p.Issue.ReporterEmail = truncate(f.Reporter.EmailAddress.String(), 256)
		}
		for _, l := range f.Labels {
			if s := l.String(); s != "" {
				p.Issue.Labels = append(p.Issue.Labels, s)
			}
		}
		p.Issue.Status = f.Status.Name.String()
		p.Issue.Updated = f.Updated.Time
	}
	if c := ev.Comment; c != nil {
		a := userOf(c.Author)
		p.Comment = &triage.Comment{
			ID:         c.ID.String(),
			AuthorID:   a.id(),
			AuthorName: a.displayName,
			Body:       wire.Text(c.Body, MaxTextBytes),
			Created:    c.Created.Time,
			Internal:   c.Internal(),
		}
	}
	return p, nil
}
