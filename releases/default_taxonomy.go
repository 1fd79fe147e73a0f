package releases

import "herald/store"

// term builds a default term with its French and Spanish names.
func term(slug, en, fr, es, parent string) store.Term {
	return store.Term{Slug: slug, Name: en, Names: map[string]string{"en": en, "fr": fr, "es": es}, Parent: parent}
}

// DefaultTopics is the built-in topic list of a migration agency's press
// office, loaded on first start.
func DefaultTopics() []store.Term {
	return []store.Term{
		term("migration", "Migration", "Migration", "Migración", ""),
		term("human-trafficking", "Human Trafficking", "Traite des êtres humains", "Trata de personas", ""),
		term("migrant-smuggling", "Migrant Smuggling", "Trafic illicite de migrants", "Tráfico ilícito de migrantes", ""),
		term("refugees", "Refugees", "Réfugiés", "Refugiados", ""),
		term("displacement", "Displacement", "Déplacements", "Desplazamiento", ""),
		term("emergencies", "Humanitarian Emergencies", "Urgences humanitaires", "Emergencias humanitarias", ""),
		term("climate-change", "Climate Change and Environment", "Changement climatique et environnement", "Cambio climático y medio ambiente", ""),
		term("migration-health", "Migration Health", "Migration et santé", "Migración y salud", ""),
		term("labour-migration", "Labour Migration", "Migration de main-d'œuvre", "Migración laboral", ""),
		term("integration", "Integration and Social Cohesion", "Intégration et cohésion sociale", "Integración y cohesión social", ""),
		term("return-and-reintegration", "Return and Reintegration", "Retour et réintégration", "Retorno y reintegración", ""),
		term("resettlement", "Resettlement", "Réinstallation", "Reasentamiento", ""),
		term("missing-migrants", "Missing Migrants", "Migrants disparus", "Migrantes desaparecidos", ""),
		term("migration-governance", "Migration Governance", "Gouvernance des migrations", "Gobernanza de la migración", ""),
		term("data-and-research", "Data and Research", "Données et recherche", "Datos e investigación", ""),
		term("remittances", "Remittances", "Envois de fonds", "Remesas", ""),
		term("gender", "Gender and Migration", "Genre et migration", "Género y migración", ""),
		term("children", "Migrant Children", "Enfants migrants", "Niñez migrante", ""),
	}
}

// DefaultRegions is the built-in region tree: regions, and countries under
// them (SPEC 2: country -> region).
func DefaultRegions() []store.Term {
	return []store.Term{
		term("americas", "Americas", "Amériques", "Américas", ""),
		term("argentina", "Argentina", "Argentine", "Argentina", "americas"),
		term("brazil", "Brazil", "Brésil", "Brasil", "americas"),
		term("chile", "Chile", "Chili", "Chile", "americas"),
		term("colombia", "Colombia", "Colombie", "Colombia", "americas"),
		term("ecuador", "Ecuador", "Équateur", "Ecuador", "americas"),
		term("guatemala", "Guatemala", "Guatemala", "Guatemala", "americas"),
		term("haiti", "Haiti", "Haïti", "Haití", "americas"),
		term("honduras", "Honduras", "Honduras", "Honduras", "americas"),
		term("mexico", "Mexico", "Mexique", "México", "americas"),
		term("panama", "Panama", "Panama", "Panamá", "americas"),
		term("peru", "Peru", "Pérou", "Perú", "americas"),
		term("united-states", "United States", "États-Unis", "Estados Unidos", "americas"),
		term("venezuela", "Venezuela", "Venezuela", "Venezuela", "americas"),
		term("africa", "Africa", "Afrique", "África", ""),
		term("democratic-republic-of-the-congo", "Democratic Republic of the Congo", "République démocratique du Congo", "República Democrática del Congo", "africa"),
		term("ethiopia", "Ethiopia", "Éthiopie", "Etiopía", "africa"),
		term("mali", "Mali", "Mali", "Malí", "africa"),
		term("niger", "Niger", "Niger", "Níger", "africa"),
		term("nigeria", "Nigeria", "Nigéria", "Nigeria", "africa"),
		term("somalia", "Somalia", "Somalie", "Somalia", "africa"),
		term("south-sudan", "South Sudan", "Soudan du Sud", "Sudán del Sur", "africa"),
		term("sudan", "Sudan", "Soudan", "Sudán", "africa"),
		term("middle-east-and-north-africa", "Middle East and North Africa", "Moyen-Orient et Afrique du Nord", "Oriente Medio y Norte de África", ""),
		term("egypt", "Egypt", "Égypte", "Egipto", "middle-east-and-north-africa"),
		term("iraq", "Iraq", "Irak", "Irak", "middle-east-and-north-africa"),
		term("lebanon", "Lebanon", "Liban", "Líbano", "middle-east-and-north-africa"),
		term("libya", "Libya", "Libye", "Libia", "middle-east-and-north-africa"),
		term("syria", "Syria", "Syrie", "Siria", "middle-east-and-north-africa"),
		term("yemen", "Yemen", "Yémen", "Yemen", "middle-east-and-north-africa"),
		term("europe", "Europe", "Europe", "Europa", ""),
		term("france", "France", "France", "Francia", "europe"),
		term("germany", "Germany", "Allemagne", "Alemania", "europe"),
		term("greece", "Greece", "Grèce", "Grecia", "europe"),
		term("italy", "Italy", "Italie", "Italia", "europe"),
		term("spain", "Spain", "Espagne", "España", "europe"),
		term("switzerland", "Switzerland", "Suisse", "Suiza", "europe"),
		term("ukraine", "Ukraine", "Ukraine", "Ucrania", "europe"),
		term("asia-pacific", "Asia and the Pacific", "Asie et Pacifique", "Asia y el Pacífico", ""),
		term("afghanistan", "Afghanistan", "Afghanistan", "Afganistán", "asia-pacific"),
		term("bangladesh", "Bangladesh", "Bangladesh", "Bangladés", "asia-pacific"),
		term("indonesia", "Indonesia", "Indonésie", "Indonesia", "asia-pacific"),
		term("myanmar", "Myanmar", "Myanmar", "Myanmar", "asia-pacific"),
		term("philippines", "Philippines", "Philippines", "Filipinas", "asia-pacific"),
		term("central-asia", "Central Asia", "Asie centrale", "Asia Central", ""),
		term("kazakhstan", "Kazakhstan", "Kazakhstan", "Kazajistán", "central-asia"),
		term("tajikistan", "Tajikistan", "Tadjikistan", "Tayikistán", "central-asia"),
	}
}
