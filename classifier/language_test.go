package classifier_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/classifier"
)

func TestLanguage(t *testing.T) {
	c, err := classifier.NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		t    classifier.Ticket
		want string
	}{
		{"English", classifier.Ticket{Summary: "Passkey problem", Description: "My passkey stopped working after the update, can you help?"}, "en"},
		{"German quoting an English error", classifier.Ticket{Summary: "Defender auf dem iPhone: Authenticator did not complete login."}, "de"},
		{"short German", classifier.Ticket{Summary: "Neues Handy, Authenticator ist leer."}, "de"},
		{"short Dutch", classifier.Ticket{Summary: "Passkey niet gevonden op mijn Galaxy."}, "nl"},
		{"French", classifier.Ticket{Summary: "Clé d'accès", Description: "Bonjour, je n'arrive plus à me connecter avec ma clé d'accès depuis hier."}, "fr"},
		{"Spanish", classifier.Ticket{Summary: "Olvidé mi contraseña", Description: "Hola, olvidé mi contraseña y la cuenta está bloqueada."}, "es"},
		{"Portuguese", classifier.Ticket{Summary: "Não fui eu!", Description: "Recebi vários pedidos de aprovação no Authenticator esta noite e não fui eu."}, "pt"},
		{"Italian", classifier.Ticket{Summary: "Nuovo telefono", Description: "Buongiorno, ho cambiato telefono e non riesco più ad accedere."}, "it"},
		{"an English error alone tells nothing", classifier.Ticket{Summary: "Authenticator did not complete login"}, ""},
		{"Polish is not German", classifier.Ticket{Summary: "Jak dodać klucz dostępu?", Description: "Dzień dobry, jak utworzyć klucz dostępu w Microsoft Authenticator? Telefon: iPhone 13."}, ""},
		{"the bot's English reply quoted back is not the reporter's", classifier.Ticket{Summary: "Passkey", Description: "Mein Passkey geht nicht mehr.",
			Comments: []classifier.Comment{{Author: classifier.AuthorBot, Body: "Hello, please remove the passkeys that no longer apply and set up a new one in Authenticator. If this did not help, reply here."}}}, "de"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, c.Language(tc.t)); diff != "" {
				t.Errorf("Language (-want, +got):\n%s", diff)
			}
		})
	}
	// The verdict falls back when nothing tells.
	if v := c.Decide(classifier.Ticket{Summary: "Authenticator did not complete login"}); v.Language != "en" {
		t.Errorf("fallback: verdict language %q, want en", v.Language)
	}
	c2, err := classifier.NewDefault(classifier.WithFallbackLanguage("de"))
	if err != nil {
		t.Fatal(err)
	}
	if v := c2.Decide(classifier.Ticket{Summary: "Authenticator did not complete login"}); v.Language != "de" {
		t.Errorf("fallback de: verdict language %q, want de", v.Language)
	}
	if _, err := classifier.NewDefault(classifier.WithFallbackLanguage("pl")); err == nil {
		t.Error("an unsupported fallback language was accepted")
	}
}
