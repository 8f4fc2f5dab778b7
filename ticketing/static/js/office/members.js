// The organization's members (owners only): the list, adding someone or changing their role, removing.

import { api } from "../api.js";
import { $, announce, busy, clearNotice, fail, h, notify } from "./ui.js";
import { can, state } from "./state.js";

let accountChanged = async () => {};

export async function loadMembers() {
  const owner = can("owner");
  $("members-manage").hidden = !owner;
  $("members-owner-only").hidden = owner;
  $("member-list").replaceChildren();
  if (!owner) return;
  const generation = state.generation;
  try {
    const answer = await api("GET", `/organizations/${state.organization.id}/members`);
    if (generation !== state.generation) return;
    renderMembers(answer.members);
  } catch (error) {
    fail(error);
  }
}

function renderMembers(members) {
  $("member-list").replaceChildren(...members.map((member) => {
    const self = Boolean(state.user) && member.user_id === state.user.id;
    const remove = h("button", { type: "button", className: "link danger", textContent: self ? "Leave" : "Remove" });
    remove.setAttribute("aria-label", self ? `Leave ${state.organization.name}` : `Remove ${member.email}`);
    remove.addEventListener("click", () => removeMember(member, remove));
    const you = self ? " (you)" : "";
    return h("tr", { dataset: { userId: member.user_id } },
      h("td", {}, member.email + you), h("td", {}, member.role), h("td", {}, remove));
  }));
}

async function removeMember(member, button) {
  const self = Boolean(state.user) && member.user_id === state.user.id;
  if (!confirm(self ? `Leave ${state.organization.name}?` : `Remove ${member.email} from ${state.organization.name}?`)) return;
  clearNotice();
  await busy([button], async () => {
    try {
      await api("DELETE", `/organizations/${state.organization.id}/members/${member.user_id}`);
      notify(`${member.email} is no longer a member.`, "info");
      if (state.user && member.user_id === state.user.id) await accountChanged(); // left: the roles differ now
      else await loadMembers();
    } catch (error) {
      fail(error);
    }
  });
}

/** Listen to the members' form; `ownRoleChanged()` runs when the signed-in person's own membership changed. */
export function initMembers(ownRoleChanged) {
  accountChanged = ownRoleChanged;
  $("member-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("member-email").value.trim();
    const role = $("member-role").value;
    if (!email) { notify("Enter the email of the person's account."); $("member-email").focus(); return; }
    clearNotice();
    await busy($("member-form").querySelectorAll("button"), async () => {
      try {
        const answer = await api("POST", `/organizations/${state.organization.id}/members`, { body: { email, role } });
        $("member-email").value = "";
        announce(`${answer.member.email} is now ${answer.member.role}.`);
        notify(`${answer.member.email} is now a ${answer.member.role} of ${state.organization.name}.`, "info");
        if (state.user && answer.member.user_id === state.user.id) await accountChanged(); // my own role changed
        else await loadMembers();
      } catch (error) {
        fail(error);
      }
    });
  });
}
