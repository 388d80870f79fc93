// Words for the API's enum values, as a practitioner would read them.

export const CATEGORIES = {
  child_sexual_exploitation: 'Child sexual exploitation',
  child_criminal_exploitation: 'Child criminal exploitation (for example county lines)',
  trafficking: 'Trafficking',
  modern_slavery: 'Modern slavery',
  online_exploitation: 'Online exploitation',
  other: 'Something else',
};

export const URGENCIES = {
  immediate_risk: 'Immediate risk: a young person may be harmed today',
  high: 'High: the risk is serious and may grow within days',
  standard: 'Standard: guidance is needed on a live case',
  advice_only: 'Advice only: no young person is at risk now',
};

export const URGENCY_SHORT = {
  immediate_risk: 'Immediate risk',
  high: 'High',
  standard: 'Standard',
  advice_only: 'Advice only',
};

export const AGE_BANDS = {
  under_10: 'Under 10',
  '10_to_12': '10 to 12',
  '13_to_15': '13 to 15',
  '16_to_17': '16 to 17',
  '18_to_25': '18 to 25',
};

export const GENDERS = {
  female: 'Female',
  male: 'Male',
  non_binary: 'Non-binary',
  other: 'Other',
  not_known: 'Not known',
};

export const FLAGS = {
  missing_from_home: 'Missing from home',
  missing_from_care: 'Missing from care',
  looked_after: 'Looked-after child',
  care_leaver: 'Care leaver',
  special_educational_needs: 'Special educational needs',
  not_in_education: 'Not in education',
  known_to_youth_justice: 'Known to youth justice services',
};

export const CONTACT_METHODS = {
  email: 'Email',
  phone: 'Phone',
  video_call: 'Video call',
};

export const ORGANISATIONS = {
  police: 'Police',
  social_care: 'Social care',
  health: 'Health',
  education: 'Education',
  voluntary: 'Voluntary sector',
  other: 'Other',
};

export const REGIONS = {
  north_east: 'North East',
  north_west: 'North West',
  yorkshire_and_the_humber: 'Yorkshire and the Humber',
  east_midlands: 'East Midlands',
  west_midlands: 'West Midlands',
  east_of_england: 'East of England',
  london: 'London',
  south_east: 'South East',
  south_west: 'South West',
  wales: 'Wales',
  scotland: 'Scotland',
  northern_ireland: 'Northern Ireland',
};

// What each status means to the person who asked.
export const STATUSES = {
  new: 'Received',
  triaged: 'Waiting for a specialist',
  assigned: 'With a specialist',
  awaiting_requester: 'The unit has asked you for information',
  resolved: 'Answered',
  closed: 'Closed',
  withdrawn: 'Withdrawn',
};

export const STATUS_TAG_COLOURS = {
  new: 'blue',
  triaged: 'blue',
  assigned: 'light-blue',
  awaiting_requester: 'orange',
  resolved: 'green',
  closed: 'grey',
  withdrawn: 'grey',
};

export const EMAIL_EVENTS = {
  request_received: 'The unit has received your request',
  request_assigned: 'A specialist has taken your request',
  reply_posted: 'A new reply on your request',
  information_requested: 'The unit asks you for information',
  request_resolved: 'Your request has been answered',
  sla_warning: 'A request is close to missing its response time',
  sla_breach: 'A request has missed its response time',
  immediate_risk: 'A request about immediate risk has arrived',
  escalation: 'An immediate-risk request has not been acknowledged',
};

export const ROLES = {
  practitioner: 'Practitioner',
  specialist: 'Specialist',
  coordinator: 'Coordinator',
  admin: 'Administrator',
};

/** The label for `value` in `labels`, or the value itself if it is new to this client. */
export function label(labels, value) {
  return labels[value] ?? value;
}
