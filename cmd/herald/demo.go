package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"time"

	"herald/media"
	"herald/releases"
	"herald/store"
)

// demoRelease is a sample release, published at an offset from now.
type demoRelease struct {
	offset time.Duration // from now; negative is the past
	in     releases.Input
}

// loadDemo fills an empty database with sample releases (serve --demo): several
// languages, topics and regions, one translation pair, one embargoed release
// a few minutes ahead and one draft. It does nothing if any release exists.
func loadDemo(ctx context.Context, svc *releases.Service, files *media.Service) (int, error) {
	page, err := svc.List(ctx, releases.ListQuery{Limit: 1})
	if err != nil || len(page.Items) > 0 {
		return 0, err
	}
	now := svc.Now()
	n := 0
	for i, d := range demoReleases() {
		at := now.Add(d.offset).UTC().Format(time.RFC3339)
		d.in.PublishedAt = &at
		r, err := svc.Create(ctx, d.in)
		if err != nil {
			return n, err
		}
		n++
		if i == 0 && files != nil {
			// The first release gets a photo (a drawn one), so that the
			// tour shows a lead image on the page, in feeds and in mail.
			if _, err := files.Add(ctx, r.ID, media.Upload{Name: "road-map.jpg", Data: demoPhoto(),
				Alt:     "A road winding through green hills towards mountains under a morning sky",
				Caption: "The road map sets out the next steps of the Quito Process.", Credit: "herald demo"}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// demoPhoto draws a landscape, 1600 × 900 pixels (wider than the 1200 px
// display copy), as a JPEG.
func demoPhoto() []byte {
	const w, h = 1600, 900
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var c color.RGBA
			hill := 520 + int(60*math.Sin(float64(x)/170)) + int(25*math.Sin(float64(x)/53))
			mountain := 430 - int(140*math.Abs(math.Sin(float64(x)/260)))
			road := math.Abs(float64(x) - (800 + 300*math.Sin(float64(y)/90)*float64(y-hill)/float64(h)))
			switch {
			case y > hill && road < float64(y-hill)/3+4:
				c = color.RGBA{170, 160, 140, 255}
			case y > hill:
				c = color.RGBA{uint8(60 + y/20), uint8(120 + (y-hill)/8), 60, 255}
			case y > mountain:
				c = color.RGBA{110, 115, 135, 255}
			default:
				c = color.RGBA{uint8(120 + y/6), uint8(170 + y/12), 235, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

func s(v string) *string { return &v }

func l(v ...string) *releases.List { x := releases.List(v); return &x }

func contacts(c ...store.Contact) *[]store.Contact { return &c }

func demoReleases() []demoRelease {
	press := store.Contact{Name: "Media Desk", Email: "media@example.org", Phone: "+41 22 000 0000"}
	return []demoRelease{
		{-72 * time.Hour, releases.Input{
			Title:          s("Latin American Countries Agree on Road Map for the Integration of Venezuelans"),
			Dateline:       s("Buenos Aires"),
			Language:       s("en"),
			TranslationKey: s("quito-process-road-map"),
			Topics:         l("migration", "integration", "human-trafficking"),
			Regions:        l("argentina", "venezuela"),
			Contacts:       contacts(store.Contact{Name: "Juliana Rivera", Email: "jrivera@example.org", Phone: "+54 11 0000 0000"}, press),
			Body: s(`The organization and the UN Refugee Agency welcome the adoption by Latin American and Caribbean countries of a road map to facilitate the integration in the region of refugees and migrants from Venezuela.

The road map was adopted during the IV International Technical Meeting of the Quito Process, held in Buenos Aires on 4 and 5 July. Government representatives from 14 countries, UN agencies, regional organizations, development banks and civil society took part.

> "The continuing exodus of Venezuelans exceeds the capacities and resources of governments in the region," said the Joint Special Representative for Venezuelan refugees and migrants.

The Road Map of the Buenos Aires Chapter includes actions on **human trafficking**, health care and the recognition of academic qualifications, and the creation of an *Information Card for Regional Mobility*.

According to national immigration authorities, the number of refugees and migrants from Venezuela around the world has exceeded 4 million.`),
		}},
		{-71 * time.Hour, releases.Input{
			Title:          s("Países latinoamericanos acuerdan hoja de ruta para la integración de personas venezolanas"),
			Dateline:       s("Buenos Aires"),
			Language:       s("es"),
			TranslationKey: s("quito-process-road-map"),
			Topics:         l("migration", "integration", "human-trafficking"),
			Regions:        l("argentina", "venezuela"),
			Contacts:       contacts(store.Contact{Name: "Juliana Rivera", Email: "jrivera@example.org", Phone: "+54 11 0000 0000"}),
			Body: s(`La Organización y la Agencia de la ONU para los Refugiados celebran la adopción, por parte de países de América Latina y el Caribe, de una hoja de ruta para facilitar la integración de personas refugiadas y migrantes de Venezuela.

La hoja de ruta se adoptó durante la IV Reunión Técnica Internacional del Proceso de Quito, celebrada en Buenos Aires los días 4 y 5 de julio.

La hoja de ruta incluye acciones sobre **trata de personas**, atención de salud y reconocimiento de títulos académicos.`),
		}},
		{-50 * time.Hour, releases.Input{
			Title:    s("Niger : l'Organisation porte secours à 180 migrants bloqués dans le désert"),
			Dateline: s("Agadez"),
			Language: s("fr"),
			Topics:   l("missing-migrants", "emergencies"),
			Regions:  l("niger"),
			Contacts: contacts(press),
			Body: s(`Une équipe de recherche et de sauvetage a porté assistance à 180 migrants, dont 23 enfants, bloqués près de la frontière algérienne après la panne de leur véhicule.

Les personnes secourues ont reçu de l'eau, de la nourriture et des soins médicaux au centre de transit d'Agadez. Depuis le début de l'année, plus de 2 000 migrants ont été secourus dans cette zone.`),
		}},
		{-30 * time.Hour, releases.Input{
			Title:    s("Migrant Deaths on the Central Mediterranean Route Reach a Five-Year High"),
			Dateline: s("Geneva"),
			Language: s("en"),
			Topics:   l("missing-migrants", "migration"),
			Regions:  l("libya", "italy"),
			Contacts: contacts(press),
			Body: s(`At least 1,450 people have died or gone missing on the Central Mediterranean route since January, according to the Missing Migrants Project, the highest figure for the period in five years.

"Every one of these deaths was preventable," said the Director of Operations. The organization calls on States to strengthen search and rescue capacity and to expand safe and regular pathways.

| Route | Deaths and disappearances |
|---|---|
| Central Mediterranean | 1,450 |
| Western Mediterranean | 310 |
| Eastern Mediterranean | 205 |`),
		}},
		{-26 * time.Hour, releases.Input{
			Title:    s("New Study Maps Climate-Driven Displacement Across the Sahel"),
			Dateline: s("Dakar"),
			Language: s("en"),
			Topics:   l("climate-change", "displacement", "data-and-research"),
			Regions:  l("africa", "mali", "niger"),
			Body: s(`A study published today combines satellite data with household surveys in 1,200 villages to show how droughts and floods push people to move, and where they go.

The report finds that two in three displaced households first move within their own district, and recommends that adaptation funding reach the communities that receive them.`),
		}},
		{-22 * time.Hour, releases.Input{
			Title:    s("اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي رغم النزاع"),
			Slug:     s("yemen-horn-of-africa-arrivals-ar"),
			Dateline: s("عدن"),
			Language: s("ar"),
			Topics:   l("migration", "migrant-smuggling"),
			Regions:  l("yemen"),
			Contacts: contacts(press),
			Body: s(`وصل أكثر من **عشرة آلاف** مهاجر من القرن الأفريقي إلى سواحل اليمن خلال الشهر الماضي، رغم استمرار النزاع وتدهور الأوضاع الإنسانية في البلاد.

ويعبر معظم المهاجرين، ومنهم أطفال غير مصحوبين بذويهم، خليج عدن على متن قوارب مكتظة يديرها المهربون، ويتعرضون في أثناء الرحلة لمخاطر جسيمة.

وتقدم فرق المنظمة في عدن ولحج المياه والغذاء والرعاية الصحية والدعم النفسي، وتساعد من يرغبون في العودة الطوعية إلى بلدانهم.`),
		}},
		{-20 * time.Hour, releases.Input{
			Title:    s("Campaña regional contra la trata de personas llega a 2 millones de jóvenes en Centroamérica"),
			Dateline: s("Ciudad de Guatemala"),
			Language: s("es"),
			Topics:   l("human-trafficking", "children"),
			Regions:  l("guatemala", "honduras"),
			Contacts: contacts(press),
			Body: s(`La campaña «Ojos abiertos», lanzada con los ministerios de educación de Guatemala y Honduras, ha llegado a más de 2 millones de jóvenes a través de escuelas, radio y redes sociales.

La línea de ayuda gratuita recibió 4.300 llamadas en seis meses y permitió identificar 85 posibles casos de trata.`),
		}},
		{-12 * time.Hour, releases.Input{
			Title:    s("Remittances to Low- and Middle-Income Countries Hold Steady Despite Slowdown"),
			Dateline: s("Geneva"),
			Language: s("en"),
			Topics:   l("remittances", "labour-migration"),
			Body: s(`Money sent home by migrant workers held steady this year, according to new estimates, outpacing foreign direct investment and development aid combined in many countries.

The cost of sending money remains high, at an average of 6.2 per cent of the amount sent, more than twice the target set in the 2030 Agenda.`),
		}},
		{-8 * time.Hour, releases.Input{
			Title:    s("Haïti : des milliers de personnes déplacées reçoivent des abris d'urgence"),
			Dateline: s("Port-au-Prince"),
			Language: s("fr"),
			Topics:   l("displacement", "emergencies"),
			Regions:  l("haiti"),
			Contacts: contacts(press),
			Body: s(`Plus de 12 000 personnes déplacées par les violences dans la capitale ont reçu des kits d'abri, des bâches et des articles d'hygiène au cours de la semaine écoulée.

Les équipes mobiles assurent également un soutien psychosocial dans 15 sites de déplacement.`),
		}},
		{-5 * time.Hour, releases.Input{
			Title:    s("Ukraine: Winter Support Expands as Returns Rise in the East"),
			Dateline: s("Kyiv"),
			Language: s("en"),
			Topics:   l("return-and-reintegration", "emergencies"),
			Regions:  l("ukraine"),
			Body: s(`Cash for heating, insulation kits and generator repairs will reach 300,000 people in frontline and return areas before temperatures drop.

Returns to the eastern regions have risen by a third since the summer, according to the latest General Population Survey.`),
		}},
		{-3 * time.Hour, releases.Input{
			Title:    s("اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي"),
			Slug:     s("yemen-arrivals-from-the-horn-of-africa-ar"),
			Dateline: s("عدن"),
			Language: s("ar"),
			Topics:   l("migration", "emergencies"),
			Regions:  l("yemen", "ethiopia"),
			Body: s(`سجلت المنظمة وصول أكثر من 10,000 مهاجر إلى سواحل اليمن خلال الشهر الماضي، معظمهم من إثيوبيا.

وتقدم الفرق المتنقلة المساعدة الطبية والمياه والغذاء للمهاجرين العالقين على طول الطريق الشرقي.`),
		}},
		{-1 * time.Hour, releases.Input{
			Title:    s("Bangladesh: Camps in Cox's Bazar Prepare for the Cyclone Season"),
			Dateline: s("Cox's Bazar"),
			Language: s("en"),
			Topics:   l("emergencies", "climate-change", "refugees"),
			Regions:  l("bangladesh", "myanmar"),
			Contacts: contacts(press),
			Body: s(`Slope stabilization, drainage works and early-warning drills are under way in the camps that host nearly one million Rohingya refugees.

Some 3,000 trained volunteers will relay cyclone warnings in the camps' own languages.`),
		}},
		{5 * time.Minute, releases.Input{
			Title:    s("Global Report: Internal Displacement Reaches a New Record"),
			Dateline: s("Geneva"),
			Language: s("en"),
			Topics:   l("displacement", "data-and-research"),
			Summary:  s("Embargoed: the annual report on internal displacement, with figures for every region."),
			Body: s(`**Embargoed until the time of publication.** The annual report counts people living in internal displacement at the end of last year, by conflict and by disaster, for every country.

Regional breakdowns and the full data set are published with the report.`),
		}},
		{-2 * time.Hour, releases.Input{
			Title:    s("Statement on the World Day Against Trafficking in Persons"),
			Dateline: s("Geneva"),
			Language: s("en"),
			Topics:   l("human-trafficking"),
			Status:   s("draft"),
			Body:     s(`Draft statement for the World Day Against Trafficking in Persons. Figures to be confirmed by the protection team before publication.`),
		}},
	}
}
