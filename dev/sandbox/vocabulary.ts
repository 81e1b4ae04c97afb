// Word lists for invented but plausible merchant-services data.

export interface BusinessKind {
  noun: string;
  sic: string;
  /** Typical ticket in dollars and card transactions per open day: drives batch and residual amounts. */
  ticket: number;
  perDay: number;
}

export const BUSINESS_KINDS: readonly BusinessKind[] = [
  { noun: "Cafe", sic: "5812", ticket: 14, perDay: 18 },
  { noun: "Bistro", sic: "5812", ticket: 38, perDay: 10 },
  { noun: "Pizzeria", sic: "5812", ticket: 24, perDay: 14 },
  { noun: "Bakery", sic: "5461", ticket: 11, perDay: 16 },
  { noun: "Auto Repair", sic: "7538", ticket: 310, perDay: 3 },
  { noun: "Tire & Lube", sic: "7534", ticket: 95, perDay: 5 },
  { noun: "Grocery", sic: "5411", ticket: 42, perDay: 20 },
  { noun: "Market", sic: "5411", ticket: 27, perDay: 15 },
  { noun: "Hair Salon", sic: "7231", ticket: 55, perDay: 7 },
  { noun: "Nail Spa", sic: "7231", ticket: 45, perDay: 8 },
  { noun: "Dental Care", sic: "8021", ticket: 240, perDay: 4 },
  { noun: "Chiropractic", sic: "8041", ticket: 85, perDay: 6 },
  { noun: "Hardware", sic: "5251", ticket: 36, perDay: 12 },
  { noun: "Florist", sic: "5992", ticket: 58, perDay: 5 },
  { noun: "Pharmacy", sic: "5912", ticket: 33, perDay: 14 },
  { noun: "Boutique", sic: "5651", ticket: 72, perDay: 6 },
  { noun: "Fuel Stop", sic: "5541", ticket: 48, perDay: 25 },
  { noun: "Inn", sic: "7011", ticket: 165, perDay: 4 },
  { noun: "Pet Supply", sic: "5995", ticket: 41, perDay: 8 },
  { noun: "Plumbing", sic: "1711", ticket: 280, perDay: 2 },
  { noun: "Law Office", sic: "8111", ticket: 650, perDay: 1 },
  { noun: "Liquors", sic: "5921", ticket: 31, perDay: 17 },
  { noun: "Dry Cleaners", sic: "7216", ticket: 23, perDay: 9 },
  { noun: "Fitness", sic: "7997", ticket: 49, perDay: 6 },
  { noun: "Furniture", sic: "5712", ticket: 540, perDay: 2 },
  { noun: "Optical", sic: "8042", ticket: 190, perDay: 3 },
  { noun: "Vet Clinic", sic: "0742", ticket: 160, perDay: 5 },
  { noun: "Bike Shop", sic: "5940", ticket: 88, perDay: 4 },
  { noun: "Tattoo Studio", sic: "7299", ticket: 130, perDay: 3 },
  { noun: "Books", sic: "5942", ticket: 26, perDay: 8 },
];

export const NAME_STARTS: readonly string[] = [
  "Blue Harbor", "Main Street", "Golden Oak", "Riverside", "Sunrise", "Maple Leaf", "Lakeside", "Red Barn",
  "Silver Pine", "Hometown", "Northgate", "Copper Kettle", "Old Mill", "Green Valley", "Harborview", "Cedar Ridge",
  "Lucky Star", "Bayside", "Twin Oaks", "Summit", "Prairie", "Liberty", "Union Square", "Westfield", "Elm Street",
  "Crescent", "Parkside", "Pioneer", "Brightwater", "Stonebridge", "Hillcrest", "Magnolia", "Fox Run", "Canyon",
  "Evergreen", "Seaside", "Highland", "Orchard", "Willow Creek", "Ironwood",
];

export const SURNAMES: readonly string[] = [
  "Smith", "Garcia", "Nguyen", "Patel", "Johnson", "Kowalski", "O'Brien", "Rossi", "Kim", "Martinez", "Schmidt",
  "Cohen", "Okafor", "Lopez", "Murphy", "Dubois", "Yamamoto", "Silva", "Novak", "Andersen", "Haddad", "Romero",
];

export const FIRST_NAMES: readonly string[] = [
  "Maria", "James", "Linh", "Priya", "Robert", "Anna", "Sean", "Giulia", "Min-jun", "Carlos", "Katrin", "David",
  "Chinedu", "Sofia", "Patrick", "Claire", "Haruto", "Ana", "Tomas", "Ingrid", "Omar", "Lucia",
];

export const LEGAL_SUFFIXES: readonly string[] = ["LLC", "Inc.", "Corp.", "LLC", "Co.", "Ltd."];

export const CITIES: readonly { city: string; state: string; zip: string }[] = [
  { city: "Brooklyn", state: "NY", zip: "11201" },
  { city: "Austin", state: "TX", zip: "78701" },
  { city: "Columbus", state: "OH", zip: "43215" },
  { city: "Tampa", state: "FL", zip: "33602" },
  { city: "Denver", state: "CO", zip: "80202" },
  { city: "Portland", state: "OR", zip: "97204" },
  { city: "Raleigh", state: "NC", zip: "27601" },
  { city: "Phoenix", state: "AZ", zip: "85004" },
  { city: "Madison", state: "WI", zip: "53703" },
  { city: "Boise", state: "ID", zip: "83702" },
  { city: "Omaha", state: "NE", zip: "68102" },
  { city: "Richmond", state: "VA", zip: "23219" },
];

export const STREETS: readonly string[] = [
  "Main St", "Oak Ave", "Broadway", "Market St", "2nd Ave", "Elm St", "Park Blvd", "Lake Rd", "Mill St", "Center St",
];

export const PROCESSOR_NAMES: readonly string[] = [
  "TSYS", "First Data North", "Elavon", "Worldpay", "Global Payments", "Paysafe", "Fiserv Omaha", "Heartland",
  "Priority", "Maverick", "Nuvei", "Chase Paymentech",
];

export const DATASOURCE_SUFFIXES: readonly string[] = ["Direct", "Sys 7654", "Wholesale", "Retail", "Portfolio B"];

export const GROUPS: readonly string[] = [
  "Default Group", "East Coast ISO", "West Region", "Direct Sales", "Main Street Partners", "Referral Partners",
];

export const LEAD_STATUSES: readonly { id: number; name: string; categoryId: number; category: string }[] = [
  { id: 11, name: "Approved", categoryId: 3, category: "Underwriting" },
  { id: 14, name: "Boarded", categoryId: 4, category: "Merchants" },
  { id: 15, name: "Live", categoryId: 4, category: "Merchants" },
  { id: 19, name: "Closed", categoryId: 5, category: "Closed" },
];

export const CAMPAIGNS: readonly { id: number; name: string }[] = [
  { id: 1, name: "Spring Outreach" },
  { id: 2, name: "Referral Program" },
  { id: 3, name: "Trade Show" },
];

export const SOURCES: readonly { id: number; name: string }[] = [
  { id: 1, name: "Website" },
  { id: 2, name: "Agent" },
  { id: 3, name: "Partner Referral" },
];

export const USERS: readonly { id: number; name: string; userClass: string; username: string }[] = [
  { id: 1, name: "Sandbox Admin", userClass: "Super Admin", username: "admin" },
  { id: 7, name: "Dana Rivers", userClass: "Sales Manager", username: "drivers" },
  { id: 12, name: "Luis Ortega", userClass: "Agent", username: "lortega" },
  { id: 23, name: "Mei Chen", userClass: "Agent", username: "mchen" },
];
