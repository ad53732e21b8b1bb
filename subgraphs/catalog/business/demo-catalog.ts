/** DEMO_CATALOG is the small catalog `npm start` seeds in development so the API has something to show. */
export const DEMO_CATALOG = [
  {
    category: 'Plumbing',
    services: [
      { name: 'Leak repair', description: 'Find and fix leaking pipes, taps and joints.' },
      { name: 'Boiler service', description: 'Yearly boiler inspection, cleaning and safety check.' },
    ],
  },
  {
    category: 'Electrical',
    services: [
      { name: 'Socket installation', description: 'Add or move wall sockets and switches.' },
      { name: 'Lighting', description: 'Install ceiling lights, dimmers and outdoor lighting.' },
    ],
  },
  {
    category: 'Cleaning',
    services: [
      { name: 'Deep clean', description: 'A top-to-bottom clean of a flat or house.' },
      { name: 'Window cleaning', description: 'Inside and outside window cleaning, frames included.' },
    ],
  },
  {
    category: 'Moving',
    services: [{ name: 'Furniture assembly', description: 'Assemble flat-pack furniture, wardrobes and beds.' }],
  },
] as const;
