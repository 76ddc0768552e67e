// leaflet.heat's dist file expects a global `L` (as a <script> tag would give it); imported
// before it so the assignment happens first.
import L from "leaflet";
(window as unknown as { L: typeof L }).L = L;
