package classifier_test

import (
	"testing"

	"github.com/mfatriage/triage/classifier"
)

// TestSecuritySignal checks both sides in seven languages: reports of a
// possible attack go to a person, flagged; ordinary questions in the same
// words, and look-alikes, do not.
func TestSecuritySignal(t *testing.T) {
	c, err := classifier.NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, summary, text string
		security            bool
	}{
		{"en", "Approval requests at 3 am", "Got about ten Approve sign-in request notifications at 3 am. That was not me, I was asleep.", true},
		{"en", "Tapped approve", "Half asleep I tapped approve on a sign-in request. I wasn't logging in to anything.", true},
		{"en", "Weird mail", "Got this e-mail: your passkey can no longer be used after today, set up a new one here. Looks like phishing, I did not click.", true},
		{"en", "How to approve?", "How do I approve a sign-in request with Authenticator on my new iPhone?", false},
		{"en", "No notification", "I don't get the notification in Authenticator anymore when I sign in to Defender.", false},
		{"en", "Webinar", "Invitation: webinar on phishing-resistant passkeys next Thursday. Can I attend?", false},
		{"de", "Anfragen mitten in der Nacht", "Heute Nacht kamen ständig Anmeldeanfragen im Authenticator. Das war ich nicht!", true},
		{"de", "Aus Versehen genehmigt", "Ich habe aus Versehen eine Anfrage genehmigt, obwohl ich mich gar nicht anmelden wollte.", true},
		{"de", "Zahl eingeben", "Wo muss ich die Zahl eingeben, die beim Anmelden angezeigt wird? Die Zahl passt nicht.", false},
		{"fr", "Ce n'était pas moi", "J'ai reçu plusieurs demandes d'approbation cette nuit, ce n'était pas moi.", true},
		{"fr", "Notification", "Je ne reçois plus la notification Authenticator pour approuver la connexion.", false},
		{"es", "No fui yo", "Me llegaron muchas solicitudes de aprobación de madrugada. No fui yo.", true},
		{"es", "Correo sospechoso", "Me ha llegado un correo sospechoso que pide renovar la clave de acceso en un enlace.", true},
		{"es", "Cómo aprobar", "¿Cómo apruebo una solicitud de inicio de sesión en Authenticator?", false},
		{"pt", "Não fui eu!", "Recebi vários pedidos de aprovação no Authenticator esta noite e não fui eu.", true},
		{"pt", "Número não bate", "O número que aparece no ecrã não bate com o do Authenticator. Onde escrevo o número?", false},
		{"nl", "Vannacht meldingen", "Vannacht kreeg ik steeds meldingen om een aanmelding goed te keuren. Dat was ik niet.", true},
		{"nl", "Geen melding", "Ik krijg geen melding meer in de Authenticator als ik wil inloggen.", false},
		{"it", "Non ero io", "Stanotte ho ricevuto molte richieste di approvazione su Authenticator. Non ero io.", true},
		{"it", "Approvato per sbaglio", "Ho approvato per sbaglio una richiesta di accesso mentre non stavo accedendo.", true},
		{"it", "Come approvo", "Come approvo una richiesta di accesso con Authenticator?", false},
	}
	// The caution flags, by design, a few in-scope tickets the model reads
	// as possible attacks (at most 0.4 % in cross-validation): one of the
	// ordinary questions here may be flagged by it alone, no more, and
	// never by the rules or the learned flag itself. (With the model of
	// 263f57f, "Come approvo una richiesta di accesso con Authenticator?"
	// is, at 0.106 against a caution of 0.104; da84e14's model read it at
	// 0.081 and only suggested it.)
	cautioned := 0
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.summary, func(t *testing.T) {
			v := c.Decide(classifier.Ticket{Summary: tc.summary, Description: tc.text})
			if !tc.security && v.Security && byCautionAlone(v) {
				cautioned++
				t.Logf("flagged by the caution alone: %+v", v.Evidence)
				return
			}
			if v.Security != tc.security {
				t.Fatalf("security %v, want %v (action %s, reason %q)", v.Security, tc.security, v.Action, v.Reason)
			}
			if !tc.security {
				return
			}
			if v.Action != classifier.ActionHuman || v.Mode != classifier.ModeNone {
				t.Errorf("a security report: action %s mode %s, want human none", v.Action, v.Mode)
			}
			found := false
			for _, e := range v.Evidence {
				found = found || e.Label == classifier.SigSecurity
			}
			if !found {
				t.Errorf("no security evidence in %+v", v.Evidence)
			}
		})
	}
	if cautioned > 1 {
		t.Errorf("the caution alone flags %d of the ordinary questions, want at most 1", cautioned)
	}
	// A security report after the bot's steps, and with an agent on the
	// ticket, is still flagged.
	v := c.Decide(classifier.Ticket{Summary: "Approval requests", Description: "I keep getting approval requests in Authenticator.",
		Comments: []classifier.Comment{
			{Author: classifier.AuthorBot, Body: "Hi, to approve a sign-in request open Authenticator and tap Approve."},
			{Author: classifier.AuthorReporter, Body: "You misunderstand, I am not signing in at all. These requests are not me."},
		}})
	if !v.Security || v.Action != classifier.ActionHuman {
		t.Errorf("a report after the bot's steps: security %v action %s", v.Security, v.Action)
	}
}

// TestSecurityRulesByThemselves checks the rules' own signal, without the
// learned model, on the ways reporters describe an attack without the
// stock words, and on the ordinary tickets that share their words.
func TestSecurityRulesByThemselves(t *testing.T) {
	t.Parallel()
	c := rulesOnly(t)
	tests := []struct {
		lang, summary, text string
		security            bool
	}{
		{"en", "is this normal?", "Is it normal to get approve sign in notifications when I am not doing anything? Had three today.", true},
		{"es", "¿es normal?", "¿Es normal recibir solicitudes de aprobación sin estar haciendo nada? Hoy me llegaron tres.", true},
		{"en", "my son pressed something", "My son was playing on my phone and pressed the blue button to approve a Microsoft message.", true},
		{"de", "Tochter hat gedrückt", "Meine Tochter hat auf dem Diensthandy gespielt und auf den blauen Knopf gedrückt, damit die Meldung weggeht.", true},
		{"fr", "mot de passe modifié", "J'ai reçu un mail disant que mon mot de passe a été modifié. Je n'ai rien changé !", true},
		{"nl", "onbekend account", "In mijn Authenticator staat een tweede account dat ik zelf nooit toegevoegd heb.", true},
		{"it", "regola strana", "Dopo il furto del telefono vedo una regola che inoltra la posta a un indirizzo gmail esterno.", true},
		{"pt", "Teams externo", "Recebi uma mensagem no Teams de um utilizador IT Support (Externo) a pedir para aprovar a notificação.", true},
		{"en", "phone stolen", "My phone was stolen last night and the Authenticator app was only on that phone. How do I get back in?", false},
		{"en", "new phone", "I never added my work account in Authenticator on my new phone. How do I set it up?", false},
		{"de", "Passwort vergessen", "Ich habe mein Passwort vergessen und mein Konto ist gesperrt.", false},
		{"it", "notifica", "Ho fatto anche \"Altri modi per accedere\", ma la notifica non arriva.", false},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.summary, func(t *testing.T) {
			t.Parallel()
			v := c.Decide(classifier.Ticket{Summary: tc.summary, Description: tc.text})
			if v.Security != tc.security {
				t.Errorf("the rules' security %v, want %v (action %s, reason %q)", v.Security, tc.security, v.Action, v.Reason)
			}
		})
	}
}

// byCautionAlone reports whether v's only security evidence is the
// learned model's caution.
func byCautionAlone(v classifier.Verdict) bool {
	n := 0
	for _, e := range v.Evidence {
		if e.Label != classifier.SigSecurity {
			continue
		}
		if e.Rule != classifier.RuleSecurityCaution {
			return false
		}
		n++
	}
	return n > 0
}
