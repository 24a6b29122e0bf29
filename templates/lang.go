package templates

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// English is the language of the embedded originals, and the one a Data
// without a supported language is rendered in.
const English = "en"

// Languages lists the languages every template exists in (ISO 639-1),
// English first. They are the languages the classifier detects.
func Languages() []string { return []string{"en", "de", "fr", "es", "pt", "nl", "it"} }

// NormalizeLanguage returns the language a Data.Language value is rendered
// in: an ISO 639-1 code of [Languages], upper or lower case, optionally
// with a region or script ("de-CH", "pt_BR"); anything else is English.
func NormalizeLanguage(code string) string {
	l := strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	for _, s := range Languages() {
		if l == s {
			return s
		}
	}
	return English
}

// words are the few texts the package itself writes into a rendering, per
// language (text/words.json): the section titles of the categories
// (template func "title"), the names of the languages (the evidence note
// names the reporter's) and the stand-in for an unknown time.
type words struct {
	Titles      map[string]string `json:"titles"`       // category id → section title
	Languages   map[string]string `json:"languages"`    // ISO 639-1 code → name of the language
	UnknownTime string            `json:"unknown_time"` // shown for a time that is not known
}

//go:embed text/words.json
var wordsJSON []byte

// wordsByLanguage holds text/words.json; TestWords checks that it is
// complete.
var wordsByLanguage = func() map[string]words {
	var w map[string]words
	if err := json.Unmarshal(wordsJSON, &w); err != nil {
		panic("templates: text/words.json: " + err.Error())
	}
	return w
}()

// title is the section title of a category id in lang (template func
// "title"); other values are returned as given.
func title(lang, id string) string {
	if t, ok := wordsByLanguage[lang].Titles[id]; ok {
		return t
	}
	return id
}

// languageName names a language code in lang ("" when the code is not one
// of [Languages]).
func languageName(lang, code string) string {
	return wordsByLanguage[lang].Languages[code]
}
