package classifier

import (
	"math/bits"
	"strings"
)

// Languages lists the languages the classifier reads and the replies are
// written in (ISO 639-1).
func Languages() []string { return []string{"en", "de", "fr", "es", "pt", "nl", "it"} }

// The language detector reads the reporter's own words after cleaning
// (quoted replies, bot and agent echoes and signatures are already set
// aside) and folding (lower case, no diacritics). Each word that belongs to
// a language's list adds 1/k to that language, k being how many lists hold
// it ("de" is Spanish, Portuguese and French). The lists are the common
// function words and the everyday words of a sign-in ticket. English words
// of the product's own messages ("Authenticator did not complete login",
// "passkey can no longer be used") are evidence of no language: a German
// reporter quotes them as they appear.
var languageWords = map[string]string{
	"en": `i my me the a an to and of it is was are be been have has had do does did not no can could cannot
		will would should this that these those there here what when where why how which who with without from for
		on in at by about after before again still just also but or so if then than because since while
		you your we our they them their he she his her its am im ive dont doesnt didnt cant wont isnt
		please thanks thank hi hello hey regards cheers morning afternoon help need want get got getting
		phone new old work working works worked fixed sign signed signing log logged logging keeps keep
		tried try trying anymore every time same again today yesterday now yet all any some anything nothing
		forgot forgotten password locked account set up setup lost stolen broke broken replaced`,
	"de": `ich mein meine meinen meinem meiner mich mir der die das den dem des ein eine einen einem einer und oder
		aber nicht kein keine keinen ist bin sind war waren hat habe haben hatte wird werden kann konnen konnte
		muss mussen soll sollte auf mit von zu zum zur fur bei nach aus vor seit uber unter durch gegen ohne
		es er sie wir ihr uns euch sich was wie wo wann warum wer welche dass weil wenn ob auch noch schon
		nur mehr immer wieder jetzt heute gestern bitte danke hallo guten morgen tag gruss grusse freundlichen
		handy telefon neues neue neuen altes alte anmeldung anmelden angemeldet einloggen geht funktioniert
		klappt leider trotzdem passwort vergessen gesperrt konto geraet gerat einrichten eingerichtet
		verloren gestohlen kaputt hilfe mfg lg vg sehr geehrte damen herren`,
	"fr": `je j me moi mon ma mes le la les l un une des du de d et ou mais ne n pas plus est suis sont etait
		ai as a avons avez ont avait peux peut pouvez pu dois doit faut sur avec pour dans par sans sous
		chez depuis pendant apres avant il elle nous vous ils elles on ce cet cette ces c ca cela qui que qu
		quoi quand comment pourquoi ou si aussi encore deja toujours jamais rien tout tous aujourd hui hier
		merci bonjour bonsoir salut cordialement svp madame monsieur telephone portable nouveau nouvel nouvelle
		connexion connecter connecte compte mot passe oublie bloque marche fonctionne plus perdu vole casse
		configurer installer aide besoin`,
	"es": `yo mi mis me el la los las lo un una unos unas del al de y o pero no ni es soy son era estoy esta
		estan he ha han habia puedo puede pueden tengo tiene tienen hay con para por sin sobre desde hasta
		en entre que cuando como donde porque si tambien todavia ya siempre nunca nada todo todos hoy ayer
		gracias hola buenos buenas dias tardes saludos favor usted ustedes nuevo nueva movil celular telefono
		inicio sesion iniciar cuenta contrasena olvide olvidado bloqueada bloqueado funciona sigue perdi
		robado roto configurar ayuda necesito cambie`,
	"pt": `eu meu minha meus minhas me o a os as um uma uns umas do da dos das no na nos nas ao de e ou mas
		nao nem e sou sao era estou esta estao tenho tem tinha posso pode podem consigo consegui com para
		por sem sobre desde ate em entre que quando como onde porque se tambem ainda ja sempre nunca nada
		tudo todos hoje ontem obrigado obrigada ola bom dia boa tarde atenciosamente favor voce voces
		novo nova celular telemovel telefone login sessao conta senha esqueci bloqueada bloqueado funciona
		continua perdi roubado partido configurar ajuda preciso troquei aparelho`,
	"nl": `ik mijn me mij de het een en of maar niet geen is ben zijn was waren heb heeft hebben had kan kon
		kunnen moet moeten wil wilt zal zou op met van voor naar bij uit over onder door zonder na sinds
		er hij zij ze wij we jullie u uw dat die dit deze wat wie waar wanneer waarom hoe als ook nog al
		alleen meer steeds altijd weer nu vandaag gisteren alsjeblieft alstublieft aub graag bedankt dank
		dankjewel hallo hoi goedemorgen groet groeten groetjes mvg gsm telefoon nieuwe nieuw oude inloggen
		aanmelden ingelogd werkt lukt helaas nog wachtwoord vergeten geblokkeerd account toestel verloren
		gestolen kapot instellen hulp nodig`,
	"it": `io mio mia miei mie mi il lo la i gli le l un una uno del della dei delle dello al alla ai di e ed
		o ma non ne e sono era ero sto sta stanno ho ha hanno aveva posso puo possono riesco devo deve con
		per senza su da dal dalla tra fra in nel nella che quando come dove perche se anche ancora gia
		sempre mai niente nulla tutto tutti oggi ieri grazie ciao buongiorno buonasera salve saluti cordiali
		favore lei voi nuovo nuova cellulare telefono telefonino accesso accedere account password dimenticato
		dimenticata bloccato bloccata funziona continua perso rubato rotto configurare aiuto bisogno cambiato`,
}

// productWords are the words of the product's own messages and names:
// quoted inside any language ("Authenticator did not complete login"),
// they are no evidence of one.
const productWords = `authenticator did not complete login passkey can no longer be used found is valid approve sign in
	request send notification use a verification code microsoft defender company portal outlook
	enter the number shown app`

// langIndex maps a folded word to the languages it belongs to, as a bit
// set over Languages(), and each language's weight for it.
type langIndex map[string]uint8

func buildLangIndex() langIndex {
	idx := langIndex{}
	langs := Languages()
	for i, l := range langs {
		for _, w := range strings.Fields(languageWords[l]) {
			idx[w] |= 1 << i
		}
	}
	for _, w := range strings.Fields(productWords) {
		delete(idx, w) // the product's words are evidence of no language
	}
	return idx
}

// minLanguageShare is the least share of a ticket's words that must be
// evidence of its language.
const minLanguageShare = 0.12

// detectLanguage names the language of the reporter's words in sc, or ""
// when nothing tells.
func (c *Classifier) detectLanguage(sc *scratch) string {
	var score [7]float64
	words := 0
	idx := c.langs
	for _, seg := range sc.segs {
		for _, tk := range sc.toks[seg.tokStart:seg.tokEnd] {
			if tk.sig || tk.end <= tk.start {
				continue
			}
			words++
			set, ok := idx[string(sc.text[tk.start:tk.end])]
			if !ok {
				continue
			}
			share := 1 / float64(bits.OnesCount8(set))
			for i := range score {
				if set&(1<<i) != 0 {
					score[i] += share
				}
			}
		}
	}
	best, second := 0, -1
	for i := 1; i < len(score); i++ {
		if score[i] > score[best] {
			best, second = i, best
		} else if second < 0 || score[i] > score[second] {
			second = i
		}
	}
	// a language needs a word of its own, a share of the words (a Polish
	// ticket that says "telefon" once is not German), and a lead
	if score[best] < 1 || score[best] < minLanguageShare*float64(words) || score[best] == score[second] {
		return ""
	}
	return Languages()[best]
}
