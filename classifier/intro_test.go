package classifier_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/classifier"
)

// TestHelpdeskQuoteIntros checks that a first message quoting the
// helpdesk's earlier answer, introduced as people do in each language
// ("you replied last week:"), is read without the quote: the answer's
// password steps are not the reporter's problem. Each case has a twin
// with a neutral introduction, whose quote counts, so the case can fail.
func TestHelpdeskQuoteIntros(t *testing.T) {
	t.Parallel()
	rules := rulesOnly(t)
	tests := []struct {
		lang, intro, neutral, quote, own string
	}{
		{"en", "You've written to me last month:", "This is the text:",
			"If you forgot your password, an administrator will reset it.",
			"But now the passkey can no longer be used."},
		{"de", "Sie haben geschrieben:", "Hier der Text:",
			"Wenn Sie Ihr Passwort vergessen haben, setzt ein Administrator es zurück.",
			"Jetzt kann der Passkey nicht mehr verwendet werden."},
		{"fr", "Vous m'aviez répondu la semaine dernière :", "Voici le texte :",
			"Si vous avez oublié votre mot de passe, un administrateur le réinitialise.",
			"Maintenant la clé d'accès ne peut plus être utilisée."},
		{"es", "Me respondisteis esto:", "Este es el texto:",
			"Si ha olvidado su contraseña, un administrador la restablecerá.",
			"Ahora la clave de acceso ya no se puede usar."},
		{"pt", "Vocês me responderam assim:", "Este é o texto:",
			"Se esqueceu a sua palavra-passe, um administrador vai redefini-la.",
			"Agora a chave de acesso já não pode ser usada."},
		{"nl", "Vorig jaar hebben jullie mij dit gemaild:", "Dit is de tekst:",
			"Als u uw wachtwoord vergeten bent, stelt een beheerder het opnieuw in.",
			"Nu kan de toegangssleutel niet meer worden gebruikt."},
		{"it", "La vostra risposta era questa:", "Questo è il testo:",
			"Se ha dimenticato la password, un amministratore la reimposterà.",
			"Adesso la passkey non può più essere usata."},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			ticket := func(intro string) classifier.Ticket {
				return classifier.Ticket{Summary: "passkey", Description: intro + "\n{quote}\n" + tt.quote + "\n{quote}\n" + tt.own}
			}
			v := rules.Decide(ticket(tt.intro))
			if diff := cmp.Diff([]string{classifier.CatPasskeyInvalid}, v.Categories); diff != "" {
				t.Errorf("introduced by %q: categories (-want +got):\n%s", tt.intro, diff)
			}
			if v.Action != classifier.ActionReply {
				t.Errorf("introduced by %q: action %s, want reply", tt.intro, v.Action)
			}
			// the twin: a quote nobody says is the helpdesk's counts
			if n := rules.Decide(ticket(tt.neutral)); !contains(n.Categories, classifier.CatPasswordForgotten) {
				t.Errorf("introduced by %q: categories %v, want %s among them (the case cannot fail)", tt.neutral, n.Categories, classifier.CatPasswordForgotten)
			}
		})
	}
}
