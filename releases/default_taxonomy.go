package releases

import "herald/store"

// term builds a default term with its French, Spanish and Arabic names.
func term(slug, en, fr, es, ar, parent string) store.Term {
	return store.Term{Slug: slug, Name: en, Names: map[string]string{"en": en, "fr": fr, "es": es, "ar": ar}, Parent: parent}
}

// DefaultTopics is the built-in topic list of a migration agency's press
// office, loaded on first start.
func DefaultTopics() []store.Term {
	return []store.Term{
		term("migration", "Migration", "Migration", "Migración", "الهجرة", ""),
		term("human-trafficking", "Human Trafficking", "Traite des êtres humains", "Trata de personas", "الاتجار بالبشر", ""),
		term("migrant-smuggling", "Migrant Smuggling", "Trafic illicite de migrants", "Tráfico ilícito de migrantes", "تهريب المهاجرين", ""),
		term("refugees", "Refugees", "Réfugiés", "Refugiados", "اللاجئون", ""),
		term("displacement", "Displacement", "Déplacements", "Desplazamiento", "النزوح", ""),
		term("emergencies", "Humanitarian Emergencies", "Urgences humanitaires", "Emergencias humanitarias", "الطوارئ الإنسانية", ""),
		term("climate-change", "Climate Change and Environment", "Changement climatique et environnement", "Cambio climático y medio ambiente", "تغير المناخ والبيئة", ""),
		term("migration-health", "Migration Health", "Migration et santé", "Migración y salud", "الهجرة والصحة", ""),
		term("labour-migration", "Labour Migration", "Migration de main-d'œuvre", "Migración laboral", "هجرة العمالة", ""),
		term("integration", "Integration and Social Cohesion", "Intégration et cohésion sociale", "Integración y cohesión social", "الإدماج والتماسك الاجتماعي", ""),
		term("return-and-reintegration", "Return and Reintegration", "Retour et réintégration", "Retorno y reintegración", "العودة وإعادة الإدماج", ""),
		term("resettlement", "Resettlement", "Réinstallation", "Reasentamiento", "إعادة التوطين", ""),
		term("missing-migrants", "Missing Migrants", "Migrants disparus", "Migrantes desaparecidos", "المهاجرون المفقودون", ""),
		term("migration-governance", "Migration Governance", "Gouvernance des migrations", "Gobernanza de la migración", "حوكمة الهجرة", ""),
		term("data-and-research", "Data and Research", "Données et recherche", "Datos e investigación", "البيانات والبحوث", ""),
		term("remittances", "Remittances", "Envois de fonds", "Remesas", "التحويلات المالية", ""),
		term("gender", "Gender and Migration", "Genre et migration", "Género y migración", "النوع الاجتماعي والهجرة", ""),
		term("children", "Migrant Children", "Enfants migrants", "Niñez migrante", "الأطفال المهاجرون", ""),
	}
}

// DefaultRegions is the built-in region tree: regions, and countries under
// them (SPEC 2: country -> region).
func DefaultRegions() []store.Term {
	return []store.Term{
		term("americas", "Americas", "Amériques", "Américas", "الأمريكتان", ""),
		term("argentina", "Argentina", "Argentine", "Argentina", "الأرجنتين", "americas"),
		term("brazil", "Brazil", "Brésil", "Brasil", "البرازيل", "americas"),
		term("chile", "Chile", "Chili", "Chile", "شيلي", "americas"),
		term("colombia", "Colombia", "Colombie", "Colombia", "كولومبيا", "americas"),
		term("ecuador", "Ecuador", "Équateur", "Ecuador", "إكوادور", "americas"),
		term("guatemala", "Guatemala", "Guatemala", "Guatemala", "غواتيمالا", "americas"),
		term("haiti", "Haiti", "Haïti", "Haití", "هايتي", "americas"),
		term("honduras", "Honduras", "Honduras", "Honduras", "هندوراس", "americas"),
		term("mexico", "Mexico", "Mexique", "México", "المكسيك", "americas"),
		term("panama", "Panama", "Panama", "Panamá", "بنما", "americas"),
		term("peru", "Peru", "Pérou", "Perú", "بيرو", "americas"),
		term("united-states", "United States", "États-Unis", "Estados Unidos", "الولايات المتحدة", "americas"),
		term("venezuela", "Venezuela", "Venezuela", "Venezuela", "فنزويلا", "americas"),
		term("africa", "Africa", "Afrique", "África", "أفريقيا", ""),
		term("democratic-republic-of-the-congo", "Democratic Republic of the Congo", "République démocratique du Congo", "República Democrática del Congo", "جمهورية الكونغو الديمقراطية", "africa"),
		term("ethiopia", "Ethiopia", "Éthiopie", "Etiopía", "إثيوبيا", "africa"),
		term("mali", "Mali", "Mali", "Malí", "مالي", "africa"),
		term("niger", "Niger", "Niger", "Níger", "النيجر", "africa"),
		term("nigeria", "Nigeria", "Nigéria", "Nigeria", "نيجيريا", "africa"),
		term("somalia", "Somalia", "Somalie", "Somalia", "الصومال", "africa"),
		term("south-sudan", "South Sudan", "Soudan du Sud", "Sudán del Sur", "جنوب السودان", "africa"),
		term("sudan", "Sudan", "Soudan", "Sudán", "السودان", "africa"),
		term("middle-east-and-north-africa", "Middle East and North Africa", "Moyen-Orient et Afrique du Nord", "Oriente Medio y Norte de África", "الشرق الأوسط وشمال أفريقيا", ""),
		term("egypt", "Egypt", "Égypte", "Egipto", "مصر", "middle-east-and-north-africa"),
		term("iraq", "Iraq", "Irak", "Irak", "العراق", "middle-east-and-north-africa"),
		term("lebanon", "Lebanon", "Liban", "Líbano", "لبنان", "middle-east-and-north-africa"),
		term("libya", "Libya", "Libye", "Libia", "ليبيا", "middle-east-and-north-africa"),
		term("syria", "Syria", "Syrie", "Siria", "سوريا", "middle-east-and-north-africa"),
		term("yemen", "Yemen", "Yémen", "Yemen", "اليمن", "middle-east-and-north-africa"),
		term("europe", "Europe", "Europe", "Europa", "أوروبا", ""),
		term("france", "France", "France", "Francia", "فرنسا", "europe"),
		term("germany", "Germany", "Allemagne", "Alemania", "ألمانيا", "europe"),
		term("greece", "Greece", "Grèce", "Grecia", "اليونان", "europe"),
		term("italy", "Italy", "Italie", "Italia", "إيطاليا", "europe"),
		term("spain", "Spain", "Espagne", "España", "إسبانيا", "europe"),
		term("switzerland", "Switzerland", "Suisse", "Suiza", "سويسرا", "europe"),
		term("ukraine", "Ukraine", "Ukraine", "Ucrania", "أوكرانيا", "europe"),
		term("asia-pacific", "Asia and the Pacific", "Asie et Pacifique", "Asia y el Pacífico", "آسيا والمحيط الهادئ", ""),
		term("afghanistan", "Afghanistan", "Afghanistan", "Afganistán", "أفغانستان", "asia-pacific"),
		term("bangladesh", "Bangladesh", "Bangladesh", "Bangladés", "بنغلاديش", "asia-pacific"),
		term("indonesia", "Indonesia", "Indonésie", "Indonesia", "إندونيسيا", "asia-pacific"),
		term("myanmar", "Myanmar", "Myanmar", "Myanmar", "ميانمار", "asia-pacific"),
		term("philippines", "Philippines", "Philippines", "Filipinas", "الفلبين", "asia-pacific"),
		term("central-asia", "Central Asia", "Asie centrale", "Asia Central", "آسيا الوسطى", ""),
		term("kazakhstan", "Kazakhstan", "Kazakhstan", "Kazajistán", "كازاخستان", "central-asia"),
		term("tajikistan", "Tajikistan", "Tadjikistan", "Tayikistán", "طاجيكستان", "central-asia"),
	}
}
