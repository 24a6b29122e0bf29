// Package templates renders the comments the triage worker posts on a Jira
// ticket: the troubleshooting replies (one section per category, steps from the
// knowledge-base article), the notices that a ticket was escalated, the internal
// evidence note for admins, the "glad it worked" acknowledgement and the "MFA
// reset done" and "password reset done" instructions. They come out as Jira
// wiki markup, the comment body of REST API v2, which is how the worker talks
// to Jira.
//
// # Languages
//
// Every template exists in English, German, French, Spanish, Portuguese,
// Dutch and Italian ([Languages]; text/<lang>/<name>.tmpl). [Data.Language]
// chooses the language (empty or unsupported: English): the reporter's for
// replies and notices, the agents' for the internal evidence note, which
// names the reporter's language ([Data.ReporterLanguage]) and quotes the
// reporter as written. A reply names Microsoft Defender only when
// [Data.MentionsDefender] is set; otherwise it speaks of "the app you were
// signing in to". The labels of the apps' screens that the texts quote, and
// where each translation was checked, are listed in text/GLOSSARY.md.
//
// # Design
//
// The texts are text/template files (text/<lang>/*.tmpl, embedded with
// go:embed), one template per file, named after the file. They are written in a small,
// line-based subset of Jira wiki markup (the intermediate markup):
//
//	h1. Title … h6. Title   a heading (the whole line)
//	# text                  an item of a numbered list; consecutive items are one list
//	* text                  an item of a bulleted list
//	(empty line)            ends a paragraph or a list
//	text                    a paragraph; consecutive lines are one paragraph with line breaks
//	*bold*  _italic_        inline; must close on the same line; may nest
//	\*  \_  \\              a literal *, _ or \
//
// Rendering a document is three steps:
//
//  1. The template is executed with the data. Every value an action prints is
//     cleaned (control characters and line breaks become spaces, length is
//     capped) and wrapped in two reserved private-use characters.
//  2. The output is parsed into blocks (paragraphs, headings, lists) of text
//     spans with marks. A wrapped value is plain text there: it can never start a
//     list or a heading, open bold text or end the line.
//  3. The blocks are printed as wiki markup, where all text is escaped (so
//     "*{code}[x|http://evil]" in a reporter's name shows as typed): the only
//     markup in the output is the structure the blocks describe.
//
// The escaping is not left to the template authors: when a template is loaded,
// the escaping function is appended to the pipeline of every action that prints
// (as html/template does), so "{{.ReporterName}}" is always escaped. Text from a
// ticket only ever travels as data; it is never parsed as a template, and
// "{{.TicketKey}}" typed by a reporter is shown literally.
//
// # Documents
//
// [Set.Reply] renders the reply for the categories of [Data.Categories] as one
// comment: the greeting, one section per category (under an "h3." title when
// there is more than one), the footer. [Set.Render] renders one document by
// name: a category id, or [EscalationMFA], [EscalationPassword], [EvidenceNote],
// [Resolved], [MFAResetDone] or [PasswordResetDone]. There is no separate
// follow-up template: a ticket whose follow-up window ends unresolved is
// escalated with [EscalationMFA] and the reason "followup-timeout".
//
// The passkey setup steps come in an iOS and an Android variant (the partials
// passkey-steps-ios and passkey-steps-android); both are shown, under their own
// headings, when the platform is unknown. passkey-setup, passkey-invalid,
// new-device and mfa-reset-done carry them; in a reply with several of these
// categories only the first section shows the steps and the others refer to it.
//
// # Overrides
//
// [Load] with a directory replaces each embedded template by an override
// file: <dir>/<lang>/<name>.tmpl ("de/passkey-setup.tmpl") for one language,
// and <dir>/<name>.tmpl ("footer.tmpl", as before languages came) for
// English, like <dir>/en/<name>.tmpl. Each template of a language comes from
// that language's override, else its embedded text, else the English
// override, else the English embedded text: an English override therefore no
// longer changes the other languages, which have their own texts.
// [Set.Overridden] lists what was overridden ("de/passkey-setup.tmpl"). The
// partials are overridable too: reply (the layout of a reply), greeting,
// footer, passkey-steps-ios, passkey-steps-android. A file that is not named
// after a template is an error, and so is a folder not named after a
// language; names starting with "." are ignored. Load parses every
// template, checks it and test-renders every document with sample data, so a
// broken override fails at start-up with a message naming the file.
//
// What a template may use:
//
//   - Fields of ".": TicketKey, ReporterName, Platform ("ios", "android" or
//     "unknown"), Categories, Reason, Evidence (each with Label, Phrase, Where),
//     StepsSent (each with Category, Title, At: a time already formatted as
//     "2006-01-02 15:04 UTC"), ReporterReplies (excerpts of at most 200
//     characters); ShowIOS and ShowAndroid (which platform steps to show);
//     Language (the language rendered in), ReporterLanguage (ISO 639-1 code,
//     "" when unknown) and ReporterLanguageName (its name in Language),
//     MentionsDefender.
//     While a reply is rendered: Category, Multi (more than one section),
//     StepsAbove and StepsSection (an earlier section, of that title, already
//     shows the passkey setup steps); in the reply layout: Sections (each with
//     Category, Title, Body).
//   - Functions: title (the heading of a category id, in the template's
//     language), and, or, not, len,
//     index, eq, ne, lt, le, gt, ge. printf and the other built-ins are not
//     available.
//   - {{template "name" .}} of any template; a template may not include itself,
//     directly or not. {{define}} and {{block}} are not allowed.
//   - {{range}} over lists only (not over numbers; no list is longer than 50
//     items), nested at most 3 deep. A template that could take too long to
//     render (counting what it includes) is refused at load.
//
// # Determinism
//
// The same data always gives the same bytes: no map is iterated and times are
// formatted in UTC to the minute.
package templates
