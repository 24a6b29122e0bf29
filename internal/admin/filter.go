package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
)

// Reasons are the reasons the worker escalates for, in the order the
// filters show them.
var Reasons = triage.Reasons

var reasonLabels = map[string]string{
	triage.ReasonSecurity:        "Security: possible attack",
	triage.ReasonMFAReset:        "MFA reset",
	triage.ReasonPasswordReset:   "Password reset",
	triage.ReasonFollowupTimeout: "No reply after follow-up",
	triage.ReasonRequested:       "Reporter asked for an admin",
}

var statusLabels = map[string]string{
	escalation.StatusOpen:         "Open",
	escalation.StatusAcknowledged: "Acknowledged",
	escalation.StatusDone:         "Done",
	escalation.StatusReturned:     "Returned to agents",
}

func reasonLabel(r string) string {
	if l, ok := reasonLabels[r]; ok {
		return l
	}
	return r
}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

// maxMinAge bounds the age filter.
const maxMinAge = 10 * 365 * 24 * time.Hour

// parseMinAge reads an age: a Go duration ("90m", "1h30m") or a number of
// days ("3d"); empty is no filter.
func parseMinAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 || strings.HasPrefix(days, "+") {
			return 0, fmt.Errorf("min_age %q: a number of days is written like 3d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("min_age %q: write an age like 90m, 4h or 3d", s)
		}
	}
	if d < 0 || d > maxMinAge {
		return 0, fmt.Errorf("min_age %q: the age must be between 0 and 10 years", s)
	}
	return d, nil
}

// parseFilter reads the queue's filters from a query: status (default
// open), reason, min_age, q (a ticket key or reporter), sort, offset and
// limit.
func parseFilter(q url.Values, defaultLimit int) (escalation.Filter, error) {
	f := escalation.Filter{Status: q.Get("status"), Reason: q.Get("reason"), Limit: defaultLimit}
	if f.Status == "" {
		f.Status = escalation.StatusOpen
	}
	if !slices.Contains(escalation.Statuses(), f.Status) {
		return f, fmt.Errorf("status %q: one of %s", f.Status, strings.Join(escalation.Statuses(), ", "))
	}
	if f.Reason != "" && !slices.Contains(Reasons, f.Reason) {
		return f, fmt.Errorf("reason %q: one of %s", f.Reason, strings.Join(Reasons, ", "))
	}
	f.Search = strings.TrimSpace(q.Get("q"))
	if len(f.Search) > escalation.MaxSearch {
		return f, fmt.Errorf("q: a search of at most %d characters", escalation.MaxSearch)
	}
	if f.Sort = q.Get("sort"); f.Sort != "" && !slices.Contains(escalation.Sorts(), f.Sort) {
		return f, fmt.Errorf("sort %q: one of %s", f.Sort, strings.Join(escalation.Sorts(), ", "))
	}
	var err error
	if f.MinAge, err = parseMinAge(q.Get("min_age")); err != nil {
		return f, err
	}
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 || f.Offset > 1_000_000 {
			return f, fmt.Errorf("offset %q: a number from 0", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return f, fmt.Errorf("limit %q: a number from 1 to 500", v)
		}
	}
	return f, nil
}

// formatAge writes a duration the way a person reads a queue: "just now",
// "42m", "3h 12m", "2d 4h".
func formatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// escalationPath is the detail page's path; ids contain ':' and are
// escaped as one path segment.
func escalationPath(id string) string { return "/escalations/" + url.PathEscape(id) }

// validID accepts an escalation id as the store makes them, loosely: not
// empty, not huge, no control characters.
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// truncate shortens s to n runes, with an ellipsis.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// clip shortens s to n runes, with an ellipsis, keeping its lines.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// languageNames name the reporters' languages.
var languageNames = map[string]string{
	"en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese", "nl": "Dutch", "it": "Italian",
}

// languageLabel is "de (German)", or "" when the record has no language.
func languageLabel(code string) string {
	if code == "" {
		return ""
	}
	if n, ok := languageNames[code]; ok {
		return code + " (" + n + ")"
	}
	return code
}
