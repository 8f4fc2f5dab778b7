// What the back office knows: who is signed in, their organizations, the one being worked on, its
// venues and events, and the event on screen.

export const state = {
  user: null,
  organizations: [], // [{id, name, role}] from GET /auth/me
  organization: null, // the one chosen
  venues: [],
  events: [],
  event: null, // the event whose map is open
  generation: 0, // bumps when the page moves on (another organization or event): stale answers are dropped
};

const RANK = { door: 1, manager: 2, owner: 3 };

/** Whether the signed-in person has at least `role` in the chosen organization (an admin has all). */
export function can(role) {
  if (state.user && state.user.is_admin) return true;
  return Boolean(state.organization) && RANK[state.organization.role] >= RANK[role];
}
