// Dates and durations as people in the unit read them: UK time, plain words.

const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

const dateOnly = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});

/** "30 November 2026 at 14:05". */
export function formatDateTime(iso) {
  if (!iso) return '';
  const parts = Object.fromEntries(dateTime.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.day} ${parts.month} ${parts.year} at ${parts.hour}:${parts.minute}`;
}

/** "30 Nov 2026". */
export function formatDate(iso) {
  return iso ? dateOnly.format(new Date(iso)) : '';
}

/** "in 3 hours", "in 25 minutes", "2 hours ago": for a due time beside its date. */
export function relativeTo(iso, now = Date.now()) {
  const minutes = Math.round((new Date(iso).getTime() - now) / 60000);
  const span = Math.abs(minutes);
  let words;
  if (span < 1) return 'now';
  if (span < 60) words = `${span} minute${span === 1 ? '' : 's'}`;
  else if (span < 48 * 60) {
    const hours = Math.round(span / 60);
    words = `${hours} hour${hours === 1 ? '' : 's'}`;
  } else {
    const days = Math.round(span / 1440);
    words = `${days} days`;
  }
  return minutes > 0 ? `in ${words}` : `${words} ago`;
}

/** "15 minutes", "1 minute", "45 seconds". */
export function formatSeconds(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
