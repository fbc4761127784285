package web

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// ui holds the chat page's own words (the bot's words are the pack's).
var ui = map[string]map[string]string{
	"en": {
		"busy":            "Too many new conversations from your network right now; please try again in a minute.",
		"continue_title":  "Continue your conversation here?",
		"continue_text":   "This link opens the conversation you started on another device, with your progress.",
		"continue_warn":   "This browser already has a conversation: it will be replaced by the one of the link.",
		"continue_button": "Continue here",
		"error":           "Something went wrong; please try again in a moment.",
		"too_long":        "That message is too long.",
		"title":           "Activate your accounts",
		"subtitle":        "Odisee account and KU Leuven association account, step by step",
		"progress":        "Your progress",
		"chat":            "Conversation",
		"you":             "You",
		"bot":             "Activation bot",
		"message":         "Your message",
		"placeholder":     "Type a question, e.g. “which account for Toledo?”",
		"send":            "Send",
		"start":           "Start",
		"intro":           "Hi! I help you activate your two accounts. Press Start, or just type a question.",
		"language":        "Language",
		"choices":         "Choose an answer",
		"another_device":  "Continue on another device",
		"link_device":     "Link another device",
		"link_hint":       "Also talking to me on Telegram, Slack or another browser? Get a code to make it one conversation.",
		"handoff_title":   "Continue on another device",
		"handoff_text":    "Open this link on your other device within 10 minutes. It works once.",
		"handoff_back":    "Back to the conversation",
		"handoff_bad":     "This link is invalid, expired or already used. Ask for a new one on the device where you started.",
		"expired":         "This page was open too long. Please send your message again.",
		"empty":           "Please type a message first.",
		"slow":            "The answer is on its way; it will appear here.",
		"privacy":         "Never type a password or national registration number here.",
		"live_off":        "Reload the page to see new messages.",
		"skip":            "Skip to the message box",
	},
	"nl": {
		"busy":            "Er starten nu te veel nieuwe gesprekken vanaf jouw netwerk; probeer het over een minuut opnieuw.",
		"continue_title":  "Hier verdergaan met je gesprek?",
		"continue_text":   "Deze link opent het gesprek dat je op een ander toestel begon, met je voortgang.",
		"continue_warn":   "Deze browser heeft al een gesprek: het wordt vervangen door dat van de link.",
		"continue_button": "Hier verdergaan",
		"error":           "Er ging iets mis; probeer het zo meteen opnieuw.",
		"too_long":        "Dat bericht is te lang.",
		"title":           "Activeer je accounts",
		"subtitle":        "Odisee-account en KU Leuven-associatieaccount, stap voor stap",
		"progress":        "Je voortgang",
		"chat":            "Gesprek",
		"you":             "Jij",
		"bot":             "Activatiebot",
		"message":         "Je bericht",
		"placeholder":     "Stel een vraag, bv. “welk account voor Toledo?”",
		"send":            "Verstuur",
		"start":           "Start",
		"intro":           "Hallo! Ik help je je twee accounts te activeren. Druk op Start, of stel gewoon een vraag.",
		"language":        "Taal",
		"choices":         "Kies een antwoord",
		"another_device":  "Verder op een ander toestel",
		"link_device":     "Koppel een ander toestel",
		"link_hint":       "Praat je ook met mij op Telegram, Slack of in een andere browser? Vraag een code om er één gesprek van te maken.",
		"handoff_title":   "Verder op een ander toestel",
		"handoff_text":    "Open deze link binnen 10 minuten op je andere toestel. Hij werkt één keer.",
		"handoff_back":    "Terug naar het gesprek",
		"handoff_bad":     "Deze link is ongeldig, verlopen of al gebruikt. Vraag een nieuwe op het toestel waar je begon.",
		"expired":         "Deze pagina stond te lang open. Stuur je bericht opnieuw.",
		"empty":           "Typ eerst een bericht.",
		"slow":            "Het antwoord is onderweg; het verschijnt hier.",
		"privacy":         "Typ hier nooit een wachtwoord of rijksregisternummer.",
		"live_off":        "Herlaad de pagina om nieuwe berichten te zien.",
		"skip":            "Naar het berichtveld",
	},
	"fr": {
		"busy":            "Trop de nouvelles conversations depuis ton réseau en ce moment ; réessaie dans une minute.",
		"continue_title":  "Continuer ta conversation ici ?",
		"continue_text":   "Ce lien ouvre la conversation commencée sur un autre appareil, avec ta progression.",
		"continue_warn":   "Ce navigateur a déjà une conversation : elle sera remplacée par celle du lien.",
		"continue_button": "Continuer ici",
		"error":           "Un problème est survenu ; réessaie dans un instant.",
		"too_long":        "Ce message est trop long.",
		"title":           "Active tes comptes",
		"subtitle":        "Compte Odisee et compte de l'association KU Leuven, étape par étape",
		"progress":        "Ta progression",
		"chat":            "Conversation",
		"you":             "Toi",
		"bot":             "Bot d'activation",
		"message":         "Ton message",
		"placeholder":     "Pose une question, p. ex. « quel compte pour Toledo ? »",
		"send":            "Envoyer",
		"start":           "Commencer",
		"intro":           "Bonjour ! Je t'aide à activer tes deux comptes. Appuie sur Commencer, ou pose simplement une question.",
		"language":        "Langue",
		"choices":         "Choisis une réponse",
		"another_device":  "Continuer sur un autre appareil",
		"link_device":     "Lier un autre appareil",
		"link_hint":       "Tu me parles aussi sur Telegram, Slack ou dans un autre navigateur ? Demande un code pour n'en faire qu'une conversation.",
		"handoff_title":   "Continuer sur un autre appareil",
		"handoff_text":    "Ouvre ce lien sur ton autre appareil dans les 10 minutes. Il ne fonctionne qu'une fois.",
		"handoff_back":    "Retour à la conversation",
		"handoff_bad":     "Ce lien est invalide, expiré ou déjà utilisé. Demandes-en un nouveau sur l'appareil où tu as commencé.",
		"expired":         "Cette page est restée ouverte trop longtemps. Renvoie ton message.",
		"empty":           "Écris d'abord un message.",
		"slow":            "La réponse arrive ; elle s'affichera ici.",
		"privacy":         "N'écris jamais ici un mot de passe ou un numéro de registre national.",
		"live_off":        "Recharge la page pour voir les nouveaux messages.",
		"skip":            "Aller au champ de message",
	},
}

// pageLang picks the chat page's language: the conversation's, else the
// one the student chose on the page, else the browser's best match among
// the pack's languages, else the pack's default.
func (s *Server) pageLang(r *http.Request, conversation string) string {
	p := s.engine.Pack()
	known := func(l string) bool {
		for _, x := range p.Languages {
			if x == l {
				_, ok := ui[l]
				return ok
			}
		}
		return false
	}
	if known(conversation) {
		return conversation
	}
	if c, err := r.Cookie(langCookie); err == nil && known(c.Value) {
		return c.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, t := range tags {
		base, _ := t.Base()
		if l := strings.ToLower(base.String()); known(l) {
			return l
		}
	}
	if known(p.DefaultLanguage) {
		return p.DefaultLanguage
	}
	return "en"
}
