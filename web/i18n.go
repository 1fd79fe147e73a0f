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
		// public pages: home and release (feeds branch)
		"latest_intro":      "The latest press releases, newest first.",
		"no_releases":       "No release has been published yet.",
		"follow_heading":    "Follow the releases",
		"follow_intro":      "Add a feed to your reader, or receive releases by email.",
		"feeds_opml":        "All topic and region feeds (OPML)",
		"feeds_filter_hint": "Any feed can be narrowed with ?topic=, ?region= and ?lang= (comma-separated values).",
		"subscribe_cta":     "Subscribe by email",
		"topic_feeds":       "Feeds by topic",
		"region_feeds":      "Feeds by region",
		"topics":            "Topics",
		"regions":           "Regions",
		"global":            "Global",
		"contacts":          "Press contacts",
		"also_in":           "Also available in",
		"original":          "Read on the organization's website",
		"feed_of":           "Feed",
	},
	"fr": {
		"skip_to_content": "Aller au contenu",
		"main_navigation": "Navigation principale",
		"nav_latest":      "Derniers communiqués",
		"nav_feeds":       "Flux",
		"nav_subscribe":   "S'abonner",
		"back_home":       "Retour aux derniers communiqués",
		// public pages: home and release (feeds branch)
		"latest_intro":      "Les derniers communiqués de presse, du plus récent au plus ancien.",
		"no_releases":       "Aucun communiqué n'a encore été publié.",
		"follow_heading":    "Suivre les communiqués",
		"follow_intro":      "Ajoutez un flux à votre lecteur, ou recevez les communiqués par e-mail.",
		"feeds_opml":        "Tous les flux par thème et par région (OPML)",
		"feeds_filter_hint": "Chaque flux peut être restreint avec ?topic=, ?region= et ?lang= (valeurs séparées par des virgules).",
		"subscribe_cta":     "S'abonner par e-mail",
		"topic_feeds":       "Flux par thème",
		"region_feeds":      "Flux par région",
		"topics":            "Thèmes",
		"regions":           "Régions",
		"global":            "Mondial",
		"contacts":          "Contacts presse",
		"also_in":           "Également disponible en",
		"original":          "Lire sur le site de l'organisation",
		"feed_of":           "Flux",
	},
	"es": {
		"skip_to_content": "Ir al contenido",
		"main_navigation": "Navegación principal",
		"nav_latest":      "Últimos comunicados",
		"nav_feeds":       "Canales",
		"nav_subscribe":   "Suscribirse",
		"back_home":       "Volver a los últimos comunicados",
		// public pages: home and release (feeds branch)
		"latest_intro":      "Los comunicados de prensa más recientes.",
		"no_releases":       "Todavía no se ha publicado ningún comunicado.",
		"follow_heading":    "Seguir los comunicados",
		"follow_intro":      "Añada un canal a su lector o reciba los comunicados por correo electrónico.",
		"feeds_opml":        "Todos los canales por tema y por región (OPML)",
		"feeds_filter_hint": "Cada canal se puede restringir con ?topic=, ?region= y ?lang= (valores separados por comas).",
		"subscribe_cta":     "Suscribirse por correo electrónico",
		"topic_feeds":       "Canales por tema",
		"region_feeds":      "Canales por región",
		"topics":            "Temas",
		"regions":           "Regiones",
		"global":            "Mundial",
		"contacts":          "Contactos de prensa",
		"also_in":           "También disponible en",
		"original":          "Leer en el sitio web de la organización",
		"feed_of":           "Canal",
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
