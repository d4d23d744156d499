// The venue's price legend (each category's colour, name and price, and the accessible mark) and
// the "best available" search: how many seats, which category, accessible places only; the seats
// it holds join the fan's holds like seats picked on the map.
import { $, element } from "./dom.js";
import { won } from "./format.js";
import { CATEGORY_COLOURS } from "./seatGrid.js";
import type { Plan } from "./venuePlan.js";

export interface BestRequest {
  count: number;
  category?: string;
  accessible?: boolean;
}

export class BestAvailable {
  private searching = false;

  constructor(private readonly onSearch: (request: BestRequest) => Promise<void>) {
    $("best-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  /** The legend and the category picker of the map just shown. */
  show(plan: Plan): void {
    const legend = $("categories");
    const items = plan.categories.map((category, index) => {
      const item = element("li");
      const swatch = element("span", "seat swatch");
      swatch.dataset.cat = String(index % CATEGORY_COLOURS);
      swatch.dataset.status = "available";
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, element("span", "category-name", category.name), ` ${won(category.price)}`);
      return item;
    });
    if (plan.accessible.includes(1)) {
      const item = element("li");
      const swatch = element("span", "seat swatch");
      swatch.dataset.acc = "";
      swatch.dataset.status = "available";
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, " accessible place (♿)");
      items.push(item);
    }
    legend.replaceChildren(...items);
    const select = $<HTMLSelectElement>("best-category");
    const chosen = select.value;
    select.replaceChildren(
      new Option("Any", ""),
      ...plan.categories.map((c) => new Option(`${c.name} (${won(c.price)})`, c.name)),
    );
    if (plan.categories.some((c) => c.name === chosen)) select.value = chosen;
    $("best-accessible-field").hidden = !plan.accessible.includes(1);
    if ($("best-accessible-field").hidden) $<HTMLInputElement>("best-accessible").checked = false;
  }

  /** The most seats one request may ask for, as the server said (MAX_HOLDS_PER_USER). */
  limit(max: number): void {
    const input = $<HTMLInputElement>("best-count");
    input.max = String(max);
    if (Number(input.value) > max) input.value = String(max);
  }

  private async submit(): Promise<void> {
    if (this.searching) return;
    const count = Number($<HTMLInputElement>("best-count").value);
    const category = $<HTMLSelectElement>("best-category").value;
    const accessible = $<HTMLInputElement>("best-accessible").checked;
    const button = $<HTMLButtonElement>("best-submit");
    this.searching = true;
    button.disabled = true;
    try {
      await this.onSearch({ count, ...(category ? { category } : {}), ...(accessible ? { accessible } : {}) });
    } finally {
      this.searching = false;
      button.disabled = false;
    }
  }
}
