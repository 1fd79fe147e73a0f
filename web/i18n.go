package web

// messages are the words of the public pages, per language, with English as
// the fallback. Keys are stable; pages call {{t .Page.Lang "key"}}.
var messages = map[string]map[string]string{
	"en": {
		"skip_to_content": "Skip to content",
		"main_navigation": "Main",
		"nav_latest":      "Latest releases",
		"nav_feeds":       "Feeds",
		"nav_subscribe":   "Subscribe",
		"back_home":       "Back to the latest releases",
	},
	"fr": {
		"skip_to_content": "Aller au contenu",
		"main_navigation": "Navigation principale",
		"nav_latest":      "Derniers communiqués",
		"nav_feeds":       "Flux",
		"nav_subscribe":   "S'abonner",
		"back_home":       "Retour aux derniers communiqués",
	},
	"es": {
		"skip_to_content": "Ir al contenido",
		"main_navigation": "Navegación principal",
		"nav_latest":      "Últimos comunicados",
		"nav_feeds":       "Canales",
		"nav_subscribe":   "Suscribirse",
		"back_home":       "Volver a los últimos comunicados",
	},
}

// T translates key into lang, falling back to English, then to the key.
func T(lang, key string) string {
	if m, ok := messages[lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	if s, ok := messages["en"][key]; ok {
		return s
	}
	return key
}
