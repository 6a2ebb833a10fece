/* cnnbook's interactive figures (cnnbook/interactive.py). No dependencies and no
   requests: every number shown was computed in PyTorch and embedded in the page;
   this script only looks numbers up as the reader moves a control. */
(function () {
  "use strict";
  if (window.cnnbookExplorer) {
    return;
  }

  // An element with attributes (on* are listeners) and children.
  function make(tag, attributes, children) {
    const node = tag === "svg" || tag === "rect" || tag === "text" || tag === "line"
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name.startsWith("on")) {
        node.addEventListener(name.slice(2), value);
      } else if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value);
      }
    }
    for (const child of children || []) {
      node.append(child);
    }
    return node;
  }

  // A grid of numbers; colours[i] = [background, text] in reading order.
  function grid(rows, colours, className) {
    const table = make("div", {class: "cx-grid " + (className || "")});
    table.style.gridTemplateColumns = `repeat(${rows[0].length}, auto)`;
    const cells = [];
    rows.flat().forEach((value, i) => {
      const cell = make("span", {class: "cx-cell", text: value});
      if (colours && colours[i]) {
        cell.style.background = colours[i][0];
        cell.style.color = colours[i][1];
      }
      cells.push(cell);
      table.append(cell);
    });
    return {table, cells};
  }

  function panel(title, body) {
    return make("div", {class: "cx-panel"}, [
      make("div", {class: "cx-title", text: title}), body]);
  }

  function slider(label, low, high, value, onInput) {
    const input = make("input", {
      type: "range", min: low, max: high, step: 1, value: value,
      "aria-label": label, oninput: onInput,
    });
    const shown = make("output", {class: "cx-value", text: String(value)});
    const row = make("label", {class: "cx-slider"}, [
      make("span", {class: "cx-label", text: label}), input, shown]);
    return {row, input, shown};
  }

  // The live region a screen reader announces; `hidden` keeps it off the screen
  // where the same words are already shown.
  function status(hidden) {
    return make("p", {class: "cx-status" + (hidden ? " cx-sr" : ""),
      "aria-live": "polite", role: "status"});
  }

  // Slide the kernel: one step per output value, in reading order.
  function kernelExplorer(root, data) {
    const [kH, kW] = data.kernel_shape;
    const steps = data.rows * data.cols;
    const input = grid(data.input, data.input_colours, "cx-input");
    const pad = data.padding;
    input.cells.forEach((cell, i) => {
      const r = Math.floor(i / data.input[0].length);
      const c = i % data.input[0].length;
      if (r < pad || c < pad || r >= data.input.length - pad ||
          c >= data.input[0].length - pad) {
        cell.classList.add("cx-pad");
      }
    });
    const kernel = grid(data.kernel, null, "cx-kernel");
    const products = grid(data.kernel, null, "cx-products");
    const sum = make("div", {class: "cx-sum"});
    const blank = Array.from({length: data.rows}, () => Array(data.cols).fill(""));
    const output = grid(blank, null, "cx-output");
    const bar = slider("step", 1, steps, 1, () => show(Number(bar.input.value) - 1));
    const count = make("span", {class: "cx-count"});
    bar.row.append(count);
    const button = (label, text, move) => make("button", {
      type: "button", "aria-label": label, title: label, text: text,
      onclick: () => show(move(Number(root.dataset.step))),
    });
    const live = status();
    root.append(
      make("div", {class: "cx-controls"}, [
        make("div", {class: "cx-buttons"}, [
          button("first step", "◀◀", () => 0),
          button("previous step", "◀", (s) => s - 1),
          button("next step", "▶", (s) => s + 1),
          button("last step", "▶▶", () => steps - 1),
        ]),
        bar.row,
      ]),
      make("div", {class: "cx-panels", "aria-hidden": "true"}, [
        panel("input" + (pad ? ` (padded by ${pad})` : ""), input.table),
        panel("kernel", kernel.table),
        panel("window × kernel", make("div", {}, [products.table, sum])),
        panel("output", output.table),
      ]),
      live,
    );
    // The arrow keys step anywhere in the figure, not only on the slider.
    root.addEventListener("keydown", (event) => {
      if (event.target === bar.input) {
        return; // the slider moves itself
      }
      const step = Number(root.dataset.step);
      const to = {ArrowRight: step + 1, ArrowLeft: step - 1, Home: 0,
        End: steps - 1}[event.key];
      if (to !== undefined) {
        event.preventDefault();
        show(to);
      }
    });

    function show(step) {
      step = Math.max(0, Math.min(steps - 1, step));
      const row = Math.floor(step / data.cols);
      const col = step % data.cols;
      const top = row * data.stride;
      const left = col * data.stride;
      input.cells.forEach((cell, i) => {
        const r = Math.floor(i / data.input[0].length) - top;
        const c = (i % data.input[0].length) - left;
        cell.classList.toggle("cx-on", r >= 0 && r < kH && c >= 0 && c < kW);
      });
      products.cells.forEach((cell, i) => {
        cell.textContent = data.products[step][i];
      });
      sum.textContent = `sum = ${data.outputs[step]}`;
      output.cells.forEach((cell, i) => {
        const done = i <= step;
        cell.textContent = done ? data.outputs[i] : "";
        cell.style.background = done ? data.output_colours[i][0] : "";
        cell.style.color = done ? data.output_colours[i][1] : "";
        cell.classList.toggle("cx-on", i === step);
      });
      bar.input.value = step + 1;
      bar.shown.textContent = String(step + 1);
      bar.input.setAttribute("aria-valuetext", `step ${step + 1} of ${steps}`);
      count.textContent = `of ${steps}`;
      root.dataset.step = step;
      root.dataset.row = row;
      root.dataset.col = col;
      root.dataset.value = data.values[step];
      live.textContent = `Step ${step + 1} of ${steps}: output row ${row}, ` +
        `column ${col} = ${data.outputs[step]}, the sum of the ${kH * kW} ` +
        `products of the kernel with the window at rows ${top}–${top + kH - 1}, ` +
        `columns ${left}–${left + kW - 1} (counting from 0, as PyTorch does).`;
    }
    show(0);
  }

  // Output size: look up conv_output_size's answer for the sliders' setting.
  function outputSizeExplorer(root, data) {
    const sliders = data.labels.map((label, i) =>
      slider(label, data.ranges[i][0], data.ranges[i][1], data.start[i], update));
    const size = make("p", {class: "cx-result"});
    const formula = make("p", {class: "cx-formula"});
    const code = make("code", {class: "cx-code"});
    const drawing = make("div", {class: "cx-diagram"});
    const live = status(true);
    root.append(
      make("div", {class: "cx-sliders"}, sliders.map((s) => s.row)),
      make("p", {}, [code]), size, formula, drawing, live);

    function update() {
      const v = sliders.map((s) => Number(s.input.value));
      sliders.forEach((s, i) => { s.shown.textContent = String(v[i]); });
      let index = 0;
      data.ranges.forEach(([low, high], i) => {
        index = index * (high - low + 1) + (v[i] - low);
      });
      const [n, k, s, p, d] = v;
      const out = data.sizes[index];
      const room = n + 2 * p - d * (k - 1) - 1;
      code.textContent = `conv_output_size(${n}, ${k}, stride=${s}, ` +
        `padding=${p}, dilation=${d})`;
      root.dataset.setting = v.join(",");
      formula.classList.toggle("cx-error", out === 0);
      if (out > 0) {
        size.textContent = `output size ${out}`;
        formula.replaceChildren(
          make("span", {text: `r = ${n} + 2·${p} − ${d}·(${k} − 1) − 1 = ${room};`}),
          " ",
          make("span", {text: `⌊${room} / ${s}⌋ + 1 = ${out}`}));
        root.dataset.output = out;
        root.dataset.error = "";
        live.textContent = `Output size ${out}.`;
      } else {
        const message = data.errors[`${n},${k},${p},${d}`];
        size.textContent = "no output: the call raises";
        formula.textContent = message;
        root.dataset.output = "";
        root.dataset.error = message;
        live.textContent = message;
      }
      draw(n, k, s, p, d, Math.max(out, 0));
    }

    function draw(n, k, s, p, d, out) {
      const cell = 24;
      const left = 44;
      const width = n + 2 * p;
      const height = cell * (out + 1) + 8;
      const svg = make("svg", {
        viewBox: `0 0 ${left + width * cell + 4} ${height}`, role: "img",
        "aria-label": `${n} input cells` + (p ? `, padded by ${p} on each side,` : "") +
          ` and ${out} windows of ${k} taps`,
        class: "cx-svg",
      });
      svg.style.maxWidth = `${1.25 * (left + width * cell + 4)}px`;
      svg.append(make("text", {x: left - 6, y: cell * 0.7, class: "cx-svg-label",
        "text-anchor": "end", text: "input"}));
      for (let c = 0; c < width; c++) {
        const padded = c < p || c >= p + n;
        svg.append(make("rect", {x: left + c * cell, y: 1, width: cell - 2,
          height: cell - 4, class: padded ? "cx-svg-pad" : "cx-svg-in"}));
      }
      for (let o = 0; o < out; o++) {
        const y = cell * (o + 1) + 4;
        svg.append(make("text", {x: left - 6, y: y + cell * 0.6,
          class: "cx-svg-label", "text-anchor": "end", text: `out ${o}`}));
        const first = o * s;
        svg.append(make("line", {x1: left + first * cell + cell / 2,
          x2: left + (first + (k - 1) * d) * cell + cell / 2, y1: y + cell / 2 - 2,
          y2: y + cell / 2 - 2, class: "cx-svg-span"}));
        for (let t = 0; t < k; t++) {
          svg.append(make("rect", {x: left + (first + t * d) * cell + 3, y: y + 2,
            width: cell - 8, height: cell - 8, class: "cx-svg-tap"}));
        }
      }
      drawing.replaceChildren(svg);
      root.dataset.windows = out;
    }
    update();
  }

  // Feature maps: one filter's weights next to its map, stage by stage.
  function featureMapExplorer(root, data) {
    const group = (name, labels, onChange) => {
      const box = make("fieldset", {class: "cx-choices"}, [
        make("legend", {text: name})]);
      const inputs = labels.map((label, i) => {
        const input = make("input", {type: "radio", name: root.id + name,
          value: i, onchange: onChange});
        box.append(make("label", {class: "cx-choice"}, [input, label]));
        return input;
      });
      inputs[0].checked = true;
      // Home and End pick the first and last choice, as in a list of options.
      box.addEventListener("keydown", (event) => {
        const to = {Home: 0, End: inputs.length - 1}[event.key];
        if (to !== undefined) {
          event.preventDefault();
          inputs[to].checked = true;
          inputs[to].focus();
          onChange();
        }
      });
      return {box, inputs};
    };
    const channels = group("channel",
      Array.from({length: data.channels}, (_, c) => String(c)), update);
    const stages = group("stage", data.stages, update);
    const weights = make("div", {class: "cx-weights"});
    const picture = make("img", {class: "cx-map", width: data.size[1],
      height: data.size[0], alt: "", loading: "lazy", decoding: "async"});
    const stats = make("p", {class: "cx-stats"});
    const live = status(true);
    const ramp = make("div", {class: "cx-ramp"});
    ramp.style.backgroundImage = `url("${data.colourbar}")`;
    const bar = make("div", {class: "cx-colourbar"}, [ramp,
      make("div", {class: "cx-ticks"}, data.scale.map((t) =>
        make("span", {text: t})))]);
    root.append(
      make("div", {class: "cx-controls"}, [channels.box, stages.box]),
      make("div", {class: "cx-panels"}, [
        panel("filter weights", weights),
        panel("feature map", make("div", {}, [picture, bar, stats]))]),
      live);

    function update() {
      const c = channels.inputs.findIndex((i) => i.checked);
      const stage = data.stages[stages.inputs.findIndex((i) => i.checked)];
      const numbers = data.stats[stage][c];
      picture.src = data.frames[stage][c];
      picture.alt = `Channel ${c} after ${stage}, ${data.size[0]} by ` +
        `${data.size[1]} pixels, coloured from ${data.scale[0]} (blue) through ` +
        `0 (white) to ${data.scale[2]} (red).`;
      const planes = data.weights[c].map((plane, i) => panel(data.inputs[i],
        grid(plane, data.weight_colours[c][i], "cx-kernel").table));
      if (data.bias) {
        planes.push(panel("bias", make("div", {class: "cx-grid"}, [
          make("span", {class: "cx-cell cx-bias", text: data.bias[c]})])));
      }
      weights.replaceChildren(...planes, make("p", {class: "cx-note",
        text: `weights coloured on their own scale, ±${data.weight_scale}`}));
      stats.textContent = `min ${numbers.min} · max ${numbers.max} · ` +
        `${numbers.zeros} zeros`;
      root.dataset.channel = c;
      root.dataset.stage = stage;
      root.dataset.min = numbers.raw_min;
      root.dataset.max = numbers.raw_max;
      live.textContent = `Channel ${c} after ${stage}: values from ` +
        `${numbers.min} to ${numbers.max}, ${numbers.zeros} of them zero.`;
    }
    update();
  }

  const explorers = {
    "kernel": kernelExplorer,
    "output-size": outputSizeExplorer,
    "feature-maps": featureMapExplorer,
  };

  // Build the live figure in place of its static fallback, once.
  window.cnnbookExplorer = function (figure) {
    if (!figure || figure.dataset.started) {
      return;
    }
    const data = JSON.parse(figure.querySelector("script.cx-data").textContent);
    const live = figure.querySelector(".cx-live");
    live.setAttribute("role", "group");
    live.setAttribute("aria-label", live.dataset.alt);
    explorers[figure.dataset.kind](live, data);
    figure.querySelector(".cx-fallback").hidden = true;
    live.hidden = false;
    figure.dataset.started = "true";
  };
})();
